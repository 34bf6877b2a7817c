"""lipflap.mouth"""

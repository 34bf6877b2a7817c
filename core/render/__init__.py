"""lipflap.render"""

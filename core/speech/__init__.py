"""lipflap.speech"""

"""lipflap.face"""

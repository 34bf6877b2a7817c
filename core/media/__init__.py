"""lipflap.media"""

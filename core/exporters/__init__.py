"""lipflap.exporters"""

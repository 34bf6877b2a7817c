"""lipflap.qc"""

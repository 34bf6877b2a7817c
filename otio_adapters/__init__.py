"""lipflap OpenTimelineIO plugin."""

"""lipflap OpenTimelineIO plugin: the `.lipflap` job-list adapter and the `lipflap_relink` media
linker. OpenTimelineIO finds them through plugin_manifest.json beside this file (entry point
`opentimelineio.plugins`: lipflap = "lipflap_otio"); the modules load by file path, so they import
this package absolutely."""

"""lipflap.qc: the project's own measurement of a lip-sync result (docs/quality.md).

- `measure.quick_report(output, track, source=None, fidelity=..., ...)`: the figures `lipflap run`
  puts in its report, from what the run already holds (output landmarks, a FidelityMeter);
- `measure.measure_video(video, track, source=...)`: `lipflap qc` on files;
- `fidelity.FidelityMeter`: feed (output, source, source landmarks) per frame while writing;
- `report`: JSON and self-contained HTML (plots and a contact sheet) of a report.
"""

"""lipflap: offline lip-sync for dubbed video.

Stages, each a subpackage with plain data between them:
media (PyAV I/O) -> face (landmarks, tracking) -> speech (dub -> phonemes) -> mouth (shape track)
-> render (the actor's own mouths, composited) -> qc (measurement). `jobs` orchestrates; `cli`
is the command line every host integration drives.
"""
__version__ = "0.1.0"

"""The engine-host contract: everything a host plugin and the engine must agree on.

Standard library only (tests/test_contract_package.py imports it with numpy, cv2, av, mediapipe
and torch blocked). The engine imports it as `lipflap.contract`; Resolve and Nuke load this same
folder by path as `lipflap_contract` through the folder's one loader, bootstrap.py (run from
resolve_plugin/launcher.py.in, resolve_plugin/__init__.py and nuke_nodes/lipflap_nuke_engine.py),
so there is one copy of each rule:

    errors      the user-facing error classes (one sentence: file, frame or timecode, what to do)
    jobspec     the job a host hands `lipflap run --job`, and its validation
    report      the run report `lipflap run` writes, and its one reader
    placements  renders at record positions, for `lipflap timeline`
    progress    the `--progress json` line protocol (writer side)
    client      starting the engine and reading that protocol (EngineRun)
    naming      render names and versions
    rates       frame rates as exact rationals
    timecode    SMPTE timecode, drop-frame included
    transcripts per-clip script files
    files       the atomic write
    bootstrap   loading this folder by path (the hosts)

The names below are what hosts call on the loaded package.
"""
from .client import EngineResult, EngineRun, find_engine, run_job, user_config_dir
from .errors import FormatError, JobError, LipflapError
from .files import atomic_json, atomic_write
from .naming import clip_base, next_version_path, report_path, safe_name
from .rates import parse_rate, rate_string
from .report import Disclosure, RunReport, credentials_summary, read_report
from .timecode import frames_to_tc, tc_to_frames

__all__ = ["EngineResult", "EngineRun", "find_engine", "run_job", "user_config_dir",
           "FormatError", "JobError", "LipflapError", "atomic_json", "atomic_write",
           "clip_base", "next_version_path", "report_path", "safe_name",
           "parse_rate", "rate_string", "Disclosure", "RunReport", "credentials_summary", "read_report",
           "frames_to_tc", "tc_to_frames"]

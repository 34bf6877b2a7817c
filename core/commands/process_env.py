"""What the `lipflap` command sets in its process before numpy is loaded: one OpenBLAS thread.

OpenBLAS (numpy's and SciPy's copies) starts a worker per core and, after any call it splits
between them, keeps the workers spinning in sched_yield for a while before they sleep. lipflap's
matrices are small (the aligner's, the dub's mouth track, the plan's and the model's fits), so the
split buys nothing, and the spinning takes CPU the analysis and other jobs on the machine could
use (the run's wall time moved less than the host's noise: docs/speed.md). Measured on
the bench job (`python bench/bench_run.py --repeat 1`, five alternated trials each, 2 vCPUs,
2026-12-06 16:20-16:30 UTC, docs/speed.md fifteenth round): the run's CPU 24.80-25.15 s (median
24.82) with one thread against 24.89-26.12 s (median 25.92) without; perf found numpy's worker
spinning 0.40 s and SciPy's 0.06 s in the run's first three seconds and nowhere in the render.
The aligner alone (`bench/bench_align.py --quick`, a 62 s dub) took 0.54 s against 0.56 s.

The command line calls `settle()` as it starts; a user's own OPENBLAS_NUM_THREADS is kept.
"""
from __future__ import annotations

import os
import sys

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1"}


def settle() -> bool:
    """Set ONE_THREAD where the user has set nothing of their own; True when numpy (and so its
    OpenBLAS) is not loaded yet, so the setting takes effect in this process."""
    for k, v in ONE_THREAD.items():
        os.environ.setdefault(k, v)
    return "numpy" not in sys.modules

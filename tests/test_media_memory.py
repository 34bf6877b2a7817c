"""The lipflap process's malloc keeps freed blocks' pages (lipflap.media.memory.reuse_freed_pages).

Run in a child process each: the setting is process-wide and must not leak into the test run."""
from __future__ import annotations

import subprocess
import sys

import pytest

CHILD = r"""
import resource, sys
import numpy as np
from lipflap.media import memory
if sys.argv[1] == "set":
    assert memory.reuse_freed_pages()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
f0 = faults()
for k in range(2, 31):      # a bigger block each time (256 kB to 3.75 MB), freed before the next
    a = np.ones(k << 17, np.uint8)
    del a
print(faults() - f0)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True,
                         timeout=60, check=True)
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_blocks_are_served_again_from_the_heap():
    # glibc's rising threshold gives each bigger block fresh pages (~60 MB touched: ~15k faults);
    # with the fixed threshold the heap grows to the largest block once (~1k).
    default, kept = _faults("default"), _faults("set")
    assert default > 8000, default
    assert kept * 4 < default, (kept, default)


def test_the_lipflap_command_sets_it(monkeypatch):
    from lipflap import cli
    from lipflap.media import memory
    called = []
    monkeypatch.setattr(memory, "reuse_freed_pages", lambda: called.append(1) or True)
    assert cli.main([]) == 2        # no command: the help, and the setting made first
    assert called == [1]

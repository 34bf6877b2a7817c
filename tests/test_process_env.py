"""lipflap.commands.process_env: the command runs numpy's OpenBLAS on one thread (docs/speed.md,
fifteenth round), unless the user set a thread count of their own."""
import os
import subprocess
import sys

import pytest

# After a product of 800x800 matrices (large enough for OpenBLAS to split), the process' threads.
PROBE = ("import os, sys\n"
         "import lipflap.cli\n"
         "import numpy as np\n"
         "a = np.ones((800, 800)); a @ a\n"
         "print(os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))\n")


def _probe(env_extra: dict) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS",)}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_the_command_module_leaves_openblas_one_thread():
    setting, threads = _probe({})
    assert setting == "1"
    assert threads == 1, "numpy's OpenBLAS started workers: process_env.settle ran after numpy loaded"


def test_a_users_own_setting_is_kept():
    setting, _ = _probe({"OPENBLAS_NUM_THREADS": "3"})
    assert setting == "3"


def test_settle_says_whether_it_was_in_time(monkeypatch):
    from lipflap.commands import process_env
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    # numpy is loaded in the test process: the setting is recorded but cannot take effect here.
    import numpy  # noqa: F401
    assert process_env.settle() is False
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"

"""lipflap.contract: standard library only, and the hosts' one copy of every shared rule."""
import ast
import os
import subprocess
import sys
import textwrap

import lipflap.contract as contract

CONTRACT_DIR = os.path.dirname(contract.__file__)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _imports(path: str) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            mods.add(node.module.split(".")[0])
    return mods


def test_every_module_imports_only_the_standard_library():
    files = [f for f in os.listdir(CONTRACT_DIR) if f.endswith(".py")]
    assert {"errors.py", "jobspec.py", "report.py", "client.py", "naming.py", "timecode.py",
            "rates.py", "transcripts.py", "files.py", "progress.py", "placements.py"} <= set(files)
    for f in files:
        extra = _imports(os.path.join(CONTRACT_DIR, f)) - set(sys.stdlib_module_names)
        assert not extra, f"{f} imports {extra}"


def test_loads_by_path_with_the_engine_and_its_dependencies_blocked():
    """As a host loads it: by path, with numpy, cv2, av, mediapipe, torch and lipflap unimportable."""
    code = textwrap.dedent(f"""
        import importlib.util, os, sys
        for name in ("numpy", "cv2", "av", "mediapipe", "torch", "opentimelineio", "lipflap", "lipflap_otio"):
            sys.modules[name] = None
        before = set(sys.modules)
        folder = {CONTRACT_DIR!r}
        spec = importlib.util.spec_from_file_location("lipflap_contract", os.path.join(folder, "__init__.py"),
                                                      submodule_search_locations=[folder])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["lipflap_contract"] = mod
        spec.loader.exec_module(mod)
        import lipflap_contract.jobspec, lipflap_contract.progress, lipflap_contract.placements
        print(mod.frames_to_tc(107892, mod.parse_rate("29.97"), True), mod.clip_base("Café 01.mov"))
        bad = sorted(m for m in set(sys.modules) - before
                     if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "lipflap_contract")
        print(bad)
    """)
    r = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd="/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["01:00:00;00 Café_01", "[]"]


def test_engine_import_of_the_contract_pulls_in_nothing_heavy():
    code = ("import sys; import lipflap.contract, lipflap.contract.jobspec, lipflap.contract.progress; "
            "print(sorted(m for m in ('numpy', 'cv2', 'av', 'mediapipe', 'torch', 'opentimelineio') "
            "if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# Functions a host plugin must take from the contract, never define itself (by what they do).
_SHARED = ("timecode", "tc_", "_tc", "frames_to", "rate", "transcript", "safe_name", "clip_base",
           "version_path", "next_version", "render_name")


def test_hosts_define_no_timecode_transcript_or_naming_function_of_their_own():
    found = []
    for folder in ("resolve_plugin", "nuke_nodes"):
        for f in sorted(os.listdir(os.path.join(REPO, folder))):
            if not f.endswith((".py", ".py.in")):
                continue
            path = os.path.join(REPO, folder, f)
            src = open(path, encoding="utf-8").read()
            if f.endswith(".in"):
                src = src.replace("@ENGINE@", "[]")
            for node in ast.walk(ast.parse(src)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = node.name.lower()
                    # record_tc labels a Resolve frame number by calling the contract's pair.
                    if name == "record_tc":
                        continue
                    if any(key in name for key in _SHARED):
                        found.append(f"{folder}/{f}:{node.lineno} {node.name}")
    assert not found, found
    assert not os.path.exists(os.path.join(REPO, "resolve_plugin", "timecode.py"))
    assert not os.path.exists(os.path.join(REPO, "resolve_plugin", "transcripts.py"))

"""The engine's layout rules, read from the source (no imports of the engine's heavy modules).

- Nothing loose in core/ but the entry points: every other module sits in the package of its
  stage (media, face, speech, mouth, render, qc, exporters), the contract, the single-job
  pipeline, conform, commands, install or provenance (a new package is added here on purpose).
- No function in core/ is longer than 80 lines, argument parsers excepted: a longer function is
  several steps that want names of their own.
- The single-job pipeline imports what it uses at module top, so a missing module fails at
  import, loudly, instead of silently dropping a stage's output from every report.
- Shipped code cites only documents that ship with it: docs/*.md that exist, never the team's
  DESIGN notes (outside the repository, so a user reading the source could not follow them).
"""
from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "core"
MAX_LINES = 80
# Functions still over the limit, in files other helpers were changing while this rule landed
# (the renderer's synthesis and model fit): split one, then remove it here.
KNOWN_LONG = {
}


ENTRY_POINTS = {"__init__.py", "__main__.py", "cli.py"}
PACKAGES = {"commands", "conform", "contract", "exporters", "face", "install", "media", "mouth",
            "pipeline", "provenance", "qc", "render", "speech"}


def test_nothing_loose_in_core_but_the_entry_points():
    loose = sorted(p.name for p in CORE.glob("*.py") if p.name not in ENTRY_POINTS)
    assert not loose, f"move into a package: {loose}"
    folders = {p.name for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == PACKAGES


def _functions():
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(CORE).as_posix(), node


def _is_argument_parser(node) -> bool:
    """A function that mostly declares command-line options (argparse add_argument calls)."""
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "add_argument"]
    return len(calls) >= 5


def _length(node) -> int:
    return node.end_lineno - node.lineno + 1


def test_no_function_in_core_is_longer_than_80_lines():
    long = sorted(f"{path}:{node.lineno} {node.name} ({_length(node)} lines)"
                  for path, node in _functions()
                  if _length(node) > MAX_LINES and not _is_argument_parser(node)
                  and (path, node.name) not in KNOWN_LONG)
    assert not long, "split these into named steps:\n" + "\n".join(long)


def test_the_rule_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    node = ast.parse(f"def f():\n{body}\n").body[0]
    assert _length(node) > MAX_LINES and not _is_argument_parser(node)


def test_pipeline_imports_at_module_top():
    for path in sorted((CORE / "pipeline").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = [n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom))]
                assert not inner, f"{path.name}: {node.name} imports inside its body"


def test_pipeline_does_not_import_conform():
    """Conform drives single-job runs; the single job reaches nothing of conform (what both
    need, such as the cast file and the face-to-character match, sits in the stage packages)."""
    for path in sorted((CORE / "pipeline").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                name = "." * node.level + (node.module or "")
                assert not (name.startswith("..conform") or name.startswith("lipflap.conform")), \
                    f"{path.name}:{node.lineno} imports {name}"


def test_a_missing_qc_module_fails_loudly(monkeypatch):
    """The report stage must not run without lipflap.qc (it once swallowed the ImportError and
    dropped QC from every report)."""
    before = [m for m in sys.modules if m.startswith("lipflap.pipeline")]
    for name in before:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "lipflap.qc.pixels", None)  # what the report stage imports
    try:
        with pytest.raises(ImportError):
            importlib.import_module("lipflap.pipeline.report")
    finally:
        # What the failed import left half-made goes; monkeypatch puts the originals back.
        for name in [m for m in sys.modules if m.startswith("lipflap.pipeline")]:
            del sys.modules[name]


def test_shipped_code_cites_only_shipped_docs():
    import re
    root = CORE.parent
    bad = []
    for folder in ("core", "otio_adapters", "resolve_plugin", "nuke_nodes"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".py", ".in") or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            where = path.relative_to(root)
            bad += [f"{where}: cites DESIGN" for _ in re.findall(r"\bDESIGN\b", text)]
            bad += [f"{where}: cites missing {d}" for d in re.findall(r"docs/[\w-]+\.md", text)
                    if not (root / d).is_file()]
    assert not bad, bad

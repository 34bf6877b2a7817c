"""One atomic write: the engine, the Resolve script and the Nuke node write whole files through
lipflap.contract.files; the only other renames are the streamed outputs files.py names."""
import os
import re

from lipflap.contract import files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Outputs that are never whole in memory (written to a path by PyAV, a zip stream, the C2PA SDK).
STREAMED = {"core/media/encode.py", "core/face/cache.py", "core/provenance/sign.py",
            "core/conform/interchange.py"}


def _renamers():
    for top in ("core", "resolve_plugin", "nuke_nodes", "otio_adapters"):
        for folder, _, names in os.walk(os.path.join(REPO, top)):
            for name in names:
                if name.endswith((".py", ".py.in")):
                    path = os.path.join(folder, name)
                    code = "".join(ln for ln in open(path, encoding="utf-8") if not ln.lstrip().startswith("#"))
                    if re.search(r"\bos\.(replace|rename)\(", code):
                        yield os.path.relpath(path, REPO).replace(os.sep, "/")


def test_renames_only_in_the_helper_and_the_named_streamed_outputs():
    assert set(_renamers()) == STREAMED | {"core/contract/files.py"}
    for path in STREAMED:   # the helper's docstring names each exception and why
        assert path.split("/", 1)[1] in files.__doc__


def test_resolve_settings_write_through_the_contract(tmp_path):
    """(The Nuke node's shapes file goes through it in every render test of test_nuke_node.py.)"""
    from lipflap_resolve import settings   # loads lipflap_contract by path
    import lipflap_contract
    assert settings.atomic_json is lipflap_contract.files.atomic_json
    s = settings.Settings(output_dir=str(tmp_path / "renders"), language="es", handles=3)
    settings.save(str(tmp_path / "cfg"), s)
    assert settings.load(str(tmp_path / "cfg")) == s
    assert os.listdir(tmp_path / "cfg") == ["resolve_settings.json"]    # no temporary left behind

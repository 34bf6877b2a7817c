"""Issue 20 item 4: the hosts and conform say what Content Credential the renders carry and where
the signing identity came from; jobs carry the signing options.

The engines are the strict fakes the host and conform tests use, wrapped so that each report gets
the `disclosure` section the real engine writes. The wrapper decides who signs with the engine's
own rule (lipflap.provenance.identity.resolve: the job's or command line's certificate, then the
environment, then the config file, then a throwaway UNVERIFIED one); only the C2PA signing itself
is left out. FAKE_NO_CREDENTIALS=1 stands for an engine run with --no-credentials.
"""
from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from lipflap import contract as hostclient
from lipflap.cli import main
from lipflap.contract.errors import JobError
from lipflap.contract.jobspec import load_job, parse_job
from lipflap.contract.report import Disclosure, RunReport, credentials_summary
from lipflap.provenance.identity import key_pem, make_ca_and_leaf, pem

WRAPPER = textwrap.dedent('''
    import json, os, runpy, sys
    from lipflap.provenance.identity import JOB_SIGNER, resolve
    args = sys.argv[1:]
    code = 0
    sys.argv = [ORIG] + args
    try:
        runpy.run_path(ORIG, run_name="__main__")
    except SystemExit as e:
        code = e.code or 0
    job, job_path = {}, None
    if "--job" in args:
        job_path = args[args.index("--job") + 1]
        job = json.load(open(job_path, encoding="utf-8"))
    report = args[args.index("--report") + 1] if "--report" in args else job.get("report")
    if code == 0 and args[0] != "timeline" and report and os.path.exists(report):
        off = job.get("credentials") is False or "--no-credentials" in args
        if off or os.environ.get("FAKE_NO_CREDENTIALS"):
            cred = {"status": "off", "reason": "--no-credentials"}
        else:
            cert = args[args.index("--sign-cert") + 1] if "--sign-cert" in args else job.get("sign_cert")
            key = args[args.index("--sign-key") + 1] if "--sign-key" in args else job.get("sign_key")
            ident, _ = resolve(cert, key, given_by=JOB_SIGNER)
            cred = dict(ident.summary(), status="local_unverified" if ident.local else "signed",
                        where="embedded")
        with open(report, encoding="utf-8") as f:
            rep = json.load(f)
        rep["disclosure"] = {"lip_synced": True, "description": "lower face redrawn to match dubbed audio",
                             "credential": cred}
        with open(report, "w", encoding="utf-8") as f:
            json.dump(rep, f)
    sys.exit(code)
''')

STATES = ("signed", "local_unverified", "off")


def wrap(tmp_path, orig: str) -> str:
    path = tmp_path / "credential_engine.py"
    path.write_text(f"ORIG = {orig!r}\n" + WRAPPER)
    return str(path)


@pytest.fixture(autouse=True)
def _no_user_signing_setup(monkeypatch, tmp_path):
    """The machine's own signing environment and config file stay out of these tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for k in ("LIPFLAP_SIGN_CERT", "LIPFLAP_SIGN_KEY", "FAKE_NO_CREDENTIALS"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("facility")
    ca, leaf, key = make_ca_and_leaf("Studio Root CA", "Studio Dubbing", "Studio", 2)
    cert, keyf = d / "facility.pem", d / "facility.key"
    cert.write_bytes(pem(leaf) + pem(ca))
    keyf.write_bytes(key_pem(key))
    return {"cert": str(cert), "key": str(keyf), "dir": d}


def set_state(monkeypatch, state: str, certs) -> None:
    """The engine's environment for one credential state (hosts drive it by inheritance)."""
    if state == "signed":
        monkeypatch.setenv("LIPFLAP_SIGN_CERT", certs["cert"])
        monkeypatch.setenv("LIPFLAP_SIGN_KEY", certs["key"])
    elif state == "off":
        monkeypatch.setenv("FAKE_NO_CREDENTIALS", "1")


def assert_says(text: str, state: str, n: int | None = None) -> None:
    """`text` names the credential state and, when signed, the signer and the identity's source."""
    if state == "signed":
        assert "signed Content Credential" in text and "Studio Dubbing" in text
        assert "identity: environment (LIPFLAP_SIGN_CERT, LIPFLAP_SIGN_KEY)" in text
    elif state == "local_unverified":
        assert "local UNVERIFIED Content Credential" in text
        assert "set LIPFLAP_SIGN_CERT/LIPFLAP_SIGN_KEY" in text and "facility's identity" in text
    else:
        assert "no Content Credential: credentials turned off (--no-credentials" in text
    if n is not None:
        assert f"{n} renders carr" in text


# ---------------------------------------------------------------- the contract's reader

def test_report_reads_the_disclosure_as_typed_fields():
    rep = RunReport.from_dict({"disclosure": {
        "lip_synced": True, "description": "lower face redrawn", "frames_changed": [[1, 4]],
        "credential": {"status": "signed", "where": "embedded", "path": "/r/a.mov",
                       "signer": "Studio Dubbing, Studio", "identity_source": "config file /c/signing.json",
                       "algorithm": "ES256"}}})
    d = rep.disclosure
    assert (d.lip_synced, d.status, d.where, d.signer, d.identity_source) == (
        True, "signed", "embedded", "Studio Dubbing, Studio", "config file /c/signing.json")
    # Written back whole: keys the reader does not type (ranges, algorithm) stay.
    again = RunReport.from_json(rep.to_json())
    assert again.disclosure == d
    assert again.to_dict()["disclosure"]["frames_changed"] == [[1, 4]]
    assert again.to_dict()["disclosure"]["credential"]["algorithm"] == "ES256"
    assert "disclosure" not in again.extra
    # Reports from before disclosures, and junk in the section, read without an error.
    assert RunReport.from_dict({"flagged_ranges": []}).disclosure is None
    assert "disclosure" not in RunReport.from_dict({}).to_dict()
    junk = RunReport.from_dict({"disclosure": {"lip_synced": "yes", "credential": ["x"]}}).disclosure
    assert junk == Disclosure(lip_synced=False, raw={"lip_synced": "yes", "credential": ["x"]})


def test_credentials_summary_counts_renders_by_state():
    def rep(status, **cred):
        return RunReport(disclosure=Disclosure(lip_synced=True, status=status, **cred))
    signed = rep("signed", where="embedded", signer="Studio Dubbing, Studio",
                 identity_source="environment (LIPFLAP_SIGN_CERT, LIPFLAP_SIGN_KEY)")
    assert credentials_summary([signed] * 12) == (
        "12 renders carry a signed Content Credential (embedded, signed by Studio Dubbing; "
        "identity: environment (LIPFLAP_SIGN_CERT, LIPFLAP_SIGN_KEY)).")
    assert credentials_summary([signed]).startswith("The render carries a signed Content Credential")
    mixed = credentials_summary([rep("local_unverified", where="sidecar"),
                                 rep("off", reason="--no-credentials"),
                                 rep("local_unverified", where="sidecar"), RunReport()])
    assert mixed.startswith("2 renders carry a local UNVERIFIED Content Credential (in a .c2pa sidecar")
    assert "; 1 render carries no Content Credential: credentials turned off (--no-credentials" in mixed
    assert mixed.endswith("1 render's report says nothing about Content Credentials (an engine from "
                          "before them; render again to disclose the lip sync).")
    assert credentials_summary([]) == ""


# ---------------------------------------------------------------- the job's signing keys

def test_job_signing_keys_are_validated(certs, tmp_path):
    job = {"video": "a.mov", "output": "out.mov"}
    j = parse_job(dict(job, sign_cert="c.pem", sign_key="k.pem"))
    assert (j.sign_cert, j.sign_key, j.credentials) == ("c.pem", "k.pem", True)
    assert parse_job(dict(job, credentials=False)).credentials is False
    assert "credentials" not in parse_job(job).to_dict()
    for bad, words in (({"sign_cert": "c.pem"}, "go together"),
                       ({"credentials": False, "sign_cert": "c.pem", "sign_key": "k.pem"}, "one or the other"),
                       ({"credentials": "no"}, "must be true or false"),
                       ({"sign_key": 3}, "must be a string or null")):
        with pytest.raises(JobError, match=words):
            parse_job(dict(job, **bad))
    # In a job file: paths relative to it, and a missing one is named in one sentence.
    rel = os.path.relpath(certs["cert"], tmp_path)
    (tmp_path / "job.json").write_text(json.dumps(dict(job, sign_cert=rel, sign_key=certs["key"])))
    assert os.path.samefile(load_job(str(tmp_path / "job.json")).sign_cert, certs["cert"])
    (tmp_path / "job.json").write_text(json.dumps(dict(job, sign_cert="nowhere.pem", sign_key=certs["key"])))
    with pytest.raises(JobError) as e:
        load_job(str(tmp_path / "job.json"))
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path / 'job.json'}: \"sign_cert\" {tmp_path / 'nowhere.pem'} is not a file")
    assert msg.count(". ") == 0 and msg.endswith(".") and "\n" not in msg


def test_run_job_signs_with_the_jobs_certificate(certs, tmp_path, capsys):
    """`lipflap run --job` takes the job's sign_cert/sign_key (a real render of a tiny clip),
    and --no-credentials on the command line overrides them."""
    from mediagen import make_clip, make_wav
    clip = make_clip(str(tmp_path / "noface.mp4"), frames=6, codec="h264")
    dub = make_wav(str(tmp_path / "dub.wav"), seconds=1)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"video": clip, "audio": dub, "language": "es", "output": "on.mov",
                               "report": "on.json", "sign_cert": certs["cert"], "sign_key": certs["key"]}))
    assert main(["run", "--job", str(job), "--progress", "none"]) == 0
    cred = RunReport.from_json((tmp_path / "on.json").read_text()).disclosure
    assert (cred.status, cred.where, cred.signer) == ("signed", "embedded", "Studio Dubbing, Studio")
    assert cred.identity_source == "job (sign_cert, sign_key)"
    assert main(["run", "--job", str(job), "-o", str(tmp_path / "off.mov"), "--report",
                 str(tmp_path / "off.json"), "--no-credentials", "--progress", "none"]) == 0
    assert RunReport.from_json((tmp_path / "off.json").read_text()).disclosure.status == "off"


# ---------------------------------------------------------------- Resolve

@pytest.mark.parametrize("state", STATES)
def test_resolve_results_name_the_credential(state, certs, tmp_path, monkeypatch, capsys):
    """The controller's summary is the console's last lines in a run without a dialog (free 19.1)
    and the dialog's result text: it names the credential state and the identity's source."""
    from lipflap_resolve import app
    from tests.fakes import fusion_ui as fui
    from tests.fakes.resolve_world import build
    set_state(monkeypatch, state, certs)
    world = build("19.1 free", tmp_path)
    engine = [sys.executable, wrap(tmp_path, world["engine"][1])]
    script_dir = tmp_path / "scripts"
    script_dir.mkdir()
    (script_dir / "lipflap_settings.json").write_text(json.dumps(
        {"output_dir": world["out"], "language": "es", "dub_track": 1, "handles": 0}))
    capsys.readouterr()
    c = app.main(world["resolve"], fui.Fusion(None), fui.Bmd(world["resolve"]), hostclient, engine=engine,
                 config_dir=str(tmp_path / "cfg"), script_dir=str(script_dir))
    out = capsys.readouterr().out
    assert "2 of 3 clip(s) lip-synced" in out and c.summary() in out
    assert_says(out.split("2 of 3 clip(s) lip-synced")[1], state, n=2)
    # The dialog (a build with a UIManager) shows the same summary as its result.
    (tmp_path / "studio").mkdir()
    world = build("20 Studio", tmp_path / "studio")
    engine = [sys.executable, wrap(tmp_path / "studio", world["engine"][1])]
    shown = {}
    fui.Dispatcher.script = [fui.set_text("OutputDir", world["out"]), fui.set_text("Language", "es"),
                             fui.set_value("DubTrack", 1), fui.click("Run"), fui.WAIT,
                             lambda win: shown.update(status=win.GetItems()["Status"].Text),
                             fui.click("Close")]
    app.main(world["resolve"], fui.Fusion(fui.UIManager()), fui.Bmd(world["resolve"]), hostclient,
             engine=engine, config_dir=str(tmp_path / "cfg"))
    assert_says(shown["status"], state, n=2)
    assert "lip-synced and placed" in shown["status"]


# ---------------------------------------------------------------- Nuke

@pytest.fixture
def nuke_node(tmp_path, monkeypatch):
    from tests.test_nuke_node import FAKE_ENGINE
    from tests.fakes import nuke as stub
    stub.reset()
    monkeypatch.setitem(sys.modules, "nuke", stub)
    monkeypatch.syspath_prepend(os.path.join(os.path.dirname(os.path.dirname(__file__)), "nuke_nodes"))
    for m in ("lipflap_nuke_node", "lipflap_nuke_curves", "lipflap_nuke_plate", "lipflap_nuke_engine"):
        sys.modules.pop(m, None)
    script = tmp_path / "engine.py"
    script.write_text(f"LOG = {str(tmp_path / 'engine_log.json')!r}\n" + FAKE_ENGINE)
    monkeypatch.setenv("LIPFLAP_ENGINE", json.dumps([sys.executable, wrap(tmp_path, str(script))]))
    monkeypatch.delitem(sys.modules, "lipflap_contract", raising=False)
    monkeypatch.setenv("LIPFLAP_CONTRACT", os.path.dirname(hostclient.__file__))
    plate, dub = tmp_path / "plate.mov", tmp_path / "dub.wav"
    plate.write_bytes(b"x")
    dub.write_bytes(b"x")
    stub.media[str(plate)] = (1, 24)
    stub.root()["fps"].setValue(24.0)
    import importlib
    node_mod = importlib.import_module("lipflap_nuke_node")
    read = stub.nodes.Read()
    read["file"].fromUserText(str(plate))
    read["first"].setValue(1)
    read["last"].setValue(24)
    g = node_mod.create()
    g.setInput(0, read)
    g["range_first"].setValue(0)   # 0/0: the node takes the plate's range
    g["range_last"].setValue(0)
    g["dub"].setValue(str(dub))
    g["cache_dir"].setValue(str(tmp_path / "cache"))
    return stub, g


@pytest.mark.parametrize("state", STATES)
def test_nuke_result_names_the_credential(state, certs, nuke_node, monkeypatch):
    import threading
    stub, g = nuke_node
    set_state(monkeypatch, state, certs)
    for button in ("analyze", "render"):
        g[button].execute()
        for t in [t for t in threading.enumerate() if t.name.startswith("lipflap")]:
            t.join(60)
        stub.pump_main_thread()
    status = g["status"].getText()
    assert status.startswith("rendered plate_lipflap_und_v001.mov: The render carries"), status
    assert_says(status, state)
    assert status.endswith(". Untouched: 4-5 no_face")       # the flagged frames are still named


# ---------------------------------------------------------------- conform

@pytest.mark.parametrize("state", STATES)
def test_conform_summary_and_joblist_name_the_credential(state, certs, tmp_path, monkeypatch, capsys):
    """--sign-cert/--sign-key/--no-credentials reach every clip's job; the end-of-run message,
    the JSON result and the job list say what the renders carry."""
    from test_conform_fakeengine import ENGINE
    from test_conform_support import make_cut
    cut = make_cut(tmp_path, "23.976", transition=False)
    monkeypatch.setenv("LIPFLAP_RUN_CMD", f"{sys.executable} {wrap(tmp_path, ENGINE)}")
    args = ["conform", cut.path, "-o", cut.outdir, "--dub-track", cut.dub_track, "--language", "es",
            "--handles", "0", "--jobs", "2", "--progress", "json"]
    if state == "signed":
        args += ["--sign-cert", certs["cert"], "--sign-key", certs["key"]]
    elif state == "off":
        args += ["--no-credentials"]
    capsys.readouterr()
    assert main(args) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    result = lines[-1]["result"]
    messages = [x["message"] for x in lines if "message" in x]
    said = result["credentials"]
    assert said in messages and said.startswith("4 renders carry")
    joblist = json.load(open(result["joblist"]))
    assert joblist["credentials"] == said
    jobs = [e["job"] for e in joblist["jobs"]]
    if state == "signed":
        assert said == ("4 renders carry a signed Content Credential (embedded, signed by Studio Dubbing; "
                        "identity: job (sign_cert, sign_key)).")
        assert all((j["sign_cert"], j["sign_key"]) == (certs["cert"], certs["key"]) for j in jobs)
    elif state == "off":
        assert_says(said, "off", n=4)
        assert all(j["credentials"] is False and "sign_cert" not in j for j in jobs)
    else:
        assert_says(said, "local_unverified", n=4)
        assert all("sign_cert" not in j and "credentials" not in j for j in jobs)


def test_conform_checks_the_signing_options_before_any_clip(certs, tmp_path, capsys):
    from test_conform_support import make_cut
    cut = make_cut(tmp_path, "23.976", transition=False)
    base = ["conform", cut.path, "-o", cut.outdir, "--dub-track", cut.dub_track, "--progress", "none"]
    for extra, words in ((["--sign-cert", certs["cert"]], "go together"),
                         (["--sign-cert", certs["cert"], "--sign-key", certs["key"], "--no-credentials"],
                          "one or the other"),
                         (["--sign-cert", str(tmp_path / "none.pem"), "--sign-key", certs["key"]],
                          "cannot read the signing certificate")):
        assert main(base + extra) != 0
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, err
    assert not os.path.exists(os.path.join(cut.outdir, "jobs"))

"""Bad jobs through `lipflap run` and `lipflap conform`: one clear error, the input untouched,
nothing half-written. Rows of docs/reliability.md ("Bad jobs").
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import pytest

from test_hardening_support import (TEXT, face_and_dub, face_frames, leftovers, one_sentence_error,
                                    run_cli, run_speech, sha, write_dub, write_video)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with face_and_dub(tmp_path_factory.mktemp("hard_jobs")) as media:
        media["hashes"] = {k: sha(media[k]) for k in ("dub", "face")}
        yield media


def _inputs_untouched(env):
    assert {k: sha(env[k]) for k in ("dub", "face")} == env["hashes"]


def _job(path, **kw):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(kw, f, ensure_ascii=False)
    return str(path)


# ---- the job file -------------------------------------------------------------------------

@pytest.mark.parametrize("extra,needle", [
    ({"colour": "rec709"}, '"colour"'),
    ({"start_frame": "10"}, '"start_frame" must be an integer'),
    ({"strength": True}, '"strength" must be a number'),
    ({"output": {"path": "o.mov", "codec": "prores"}}, "codec"),
    ({"handles": -3}, '"handles" must be 0 or more'),
])
def test_job_file_unknown_keys_and_wrong_types(env, tmp_path, capsys, extra, needle):
    data = {"video": env["face"], "audio": env["dub"], "output": str(tmp_path / "o.mov"),
            "text": TEXT, "language": "en"}
    data.update(extra)
    job = _job(tmp_path / "job.json", **data)
    code, err = run_cli(capsys, "run", "--job", job, "--progress", "none")
    line = one_sentence_error(err)
    assert code == 2 and job in line and needle in line
    assert leftovers(tmp_path) == [job]
    _inputs_untouched(env)


@pytest.mark.parametrize("args,needle", [
    (["--start", "0", "--end", "999"], "outside the file"),
    (["--start", "45", "--end", "50"], "outside the file"),
    (["--in", "01:00:00:00", "--out", "02:00:00:00"], "fall outside the file"),
    (["--in", "25:99:00:00"], "not a timecode"),
])
def test_frame_ranges_outside_the_media(env, tmp_path, capsys, args, needle):
    code, err = run_speech(capsys, env["face"], tmp_path / "o.mov", *args, dub=env["dub"])
    line = one_sentence_error(err)
    assert code == 2 and env["face"] in line and needle in line
    assert leftovers(tmp_path) == []


def test_job_range_outside_the_media(env, tmp_path, capsys):
    job = _job(tmp_path / "job.json", video=env["face"], audio=env["dub"], text=TEXT, language="en",
               output=str(tmp_path / "o.mov"), start_frame=10, end_frame=10 + env["n"])
    code, err = run_cli(capsys, "run", "--job", job, "--progress", "none")
    line = one_sentence_error(err)
    assert code == 2 and "outside the file" in line and f"{env['n']} frames" in line
    assert leftovers(tmp_path) == [job]


# ---- paths --------------------------------------------------------------------------------

WEIRD = "a b 'q' \"dq\" $(touch PWNED) `touch PWNED2`; | & * ? ü 日本 -x"


def test_paths_with_spaces_quotes_unicode_and_shell_metacharacters(env, tmp_path):
    """Nothing goes through a shell: such paths work as given, in argv and in a job file."""
    d = tmp_path / WEIRD
    d.mkdir()
    video = write_video(d / "clip $HOME;.mp4", face_frames(env["n"]))
    dub = write_dub(d / "dub 'es'.wav", 22050, 1)
    script = d / "script \"es\".txt"
    script.write_text(TEXT, encoding="utf-8")
    cmd = [sys.executable, "-m", "lipflap", "run"]
    r = subprocess.run(cmd + [video, "--audio", dub, "--transcript", str(script), "--language", "en",
                              "-o", str(d / "out |1|.mov"), "--report", str(d / "rep $1.json"),
                              "--progress", "none"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    job = _job(d / "job ü.json", video=os.path.basename(video), audio=os.path.basename(dub),
               transcript=script.name, language="en", output={"path": "out &2.mov"},
               report="rep `2`.json")
    r = subprocess.run(cmd + ["--job", job, "--progress", "json"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])["result"]
    assert result["output"] == str(d / "out &2.mov")
    for name in ("out |1|.mov", "rep $1.json", "out &2.mov", "rep `2`.json"):
        assert (d / name).is_file()
    assert not list(tmp_path.rglob("PWNED*")) and not os.path.exists("PWNED")


def test_conform_with_metacharacter_paths(tmp_path, monkeypatch):
    """conform hands the engine job files and paths as argv items, never a shell line."""
    from test_conform_fakeengine import engine_cmd
    from test_conform_support import make_cut

    from lipflap.conform import conform
    from lipflap.contract.progress import Progress
    monkeypatch.setenv("LIPFLAP_RUN_CMD", engine_cmd())
    root = tmp_path / WEIRD
    cut = make_cut(root, "23.976", transition=False)
    outdir = str(root / "out $(id)")
    res = conform(cut.path, outdir, dub_track=cut.dub_track, language="es", n_procs=2,
                  progress=Progress("none"))
    assert all(cj.status == "done" for cj in res.jobs), [cj.error for cj in res.jobs]
    assert len(res.jobs) == 4 and os.path.isfile(res.edl_path)
    assert not list(tmp_path.rglob("PWNED*"))


# ---- where the output goes ----------------------------------------------------------------

def test_output_or_report_onto_an_input_is_refused(env, tmp_path, capsys):
    link = tmp_path / "link.mov"
    os.symlink(env["face"], link)
    # (the dub's .wav name is refused before that: no video codec writes .wav)
    cases = [(["-o", env["face"]], "input"), (["-o", env["dub"]], env["dub"]),
             (["-o", str(link)], "input"),
             (["-o", str(tmp_path / "o.mov"), "--report", env["face"]], "input"),
             (["-o", str(tmp_path / "o.mov"), "--report", str(tmp_path / "o.mov")], "output's own name"),
             (["-o", os.path.join(env["face"], "o.mov")], env["face"])]
    for args, needle in cases:
        code, err = run_cli(capsys, "run", env["face"], "--audio", env["dub"], "--text", TEXT,
                            "--language", "en", "--progress", "none", *args)
        line = one_sentence_error(err)
        assert code == 2 and needle in line, args
    _inputs_untouched(env)
    assert os.path.islink(link) and not (tmp_path / "o.mov").exists()


def _make_unwritable(folder):
    """A folder nobody (root included) can create files in; None when this system cannot."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        return lambda: os.chmod(folder, 0o755)
    r = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    if r.returncode != 0:
        return None
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_output_folder_not_writable(env, tmp_path, capsys):
    ro = tmp_path / "readonly"
    ro.mkdir()
    undo = _make_unwritable(ro)
    if undo is None:
        pytest.skip("cannot make a folder read-only for root here (no chattr support)")
    try:
        code, err = run_speech(capsys, env["face"], ro / "o.mov", dub=env["dub"],
                               report=str(tmp_path / "r.json"))
        line = one_sentence_error(err)
        assert code == 2 and str(ro / "o.mov") in line and "writable" in line
        assert os.listdir(ro) == []
    finally:
        undo()
    # A path whose "folder" is a file.
    code, err = run_speech(capsys, env["face"], tmp_path / "r.json" / "o.mov", dub=env["dub"],
                           report=str(tmp_path / "r2.json"))
    assert code == 2 and "o.mov" in one_sentence_error(err)
    _inputs_untouched(env)


@pytest.mark.parametrize("limit_kb", [64, 1500])
def test_disk_full_is_a_clear_error_and_leaves_nothing(env, tmp_path, limit_kb):
    """A full disk, simulated with a file-size limit on the engine process (EFBIG, as ENOSPC):
    the error says so, no output or temporary is left, the inputs are untouched. 64 kB fails in
    the first frames, 1.5 MB near the end of the render."""
    out = tmp_path / "out"
    out.mkdir()

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_kb * 1024, limit_kb * 1024))
    r = subprocess.run([sys.executable, "-m", "lipflap", "run", env["face"], "--audio", env["dub"],
                        "--text", TEXT, "--language", "en", "-o", str(out / "o.mov"),
                        "--report", str(out / "o.json"), "--progress", "none"],
                       preexec_fn=limit, capture_output=True, text=True,
                       env={**os.environ, "LIPFLAP_CACHE": str(tmp_path / "cache")})
    line = one_sentence_error(r.stderr)
    assert r.returncode == 2 and str(out / "o.mov") in line and "disk is full" in line
    assert os.listdir(out) == []
    _inputs_untouched(env)

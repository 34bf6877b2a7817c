"""Content Credentials (C2PA) on renders: signed, read back, verified, and broken on purpose.

The tests make their own throwaway CA and ES256 leaf; renders are tiny generated clips written
through lipflap's VideoWriter and signed the way `lipflap run` signs them (DisclosureWriter.close).
"""
from __future__ import annotations

import json
import os
import wave

import av
import numpy as np
import pytest

from lipflap.cli import main
from lipflap.media.decode import read_frames
from lipflap.media.encode import VideoWriter
from lipflap.media.probe import probe
from lipflap.provenance import CredentialError, DisclosureWriter, Facts, Signing
from lipflap.provenance.facts import COMPOSITE_AI
from lipflap.provenance.identity import key_pem, make_ca_and_leaf, pem
from lipflap.provenance.verify import describe, verify

from mediagen import make_clip

N = 10
# frames 2-5 and 8 redrawn, the rest passed through (source indexes)
CHANGED = np.array([0, 0, 1, 1, 1, 1, 0, 0, 1, 0], bool)


@pytest.fixture(autouse=True)
def _no_user_signing_setup(monkeypatch, tmp_path):
    """The machine's own signing environment and config file stay out of these tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("LIPFLAP_SIGN_CERT", raising=False)
    monkeypatch.delenv("LIPFLAP_SIGN_KEY", raising=False)


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    d = tmp_path_factory.mktemp("prov")
    ca, leaf, key = make_ca_and_leaf("lipflap test CA", "lipflap test signer", "lipflap tests", 2)
    cert, keyf, cafile = str(d / "signer.pem"), str(d / "signer.key"), str(d / "ca.pem")
    open(cert, "wb").write(pem(leaf) + pem(ca))
    open(keyf, "wb").write(key_pem(key))
    open(cafile, "wb").write(pem(ca))
    src = make_clip(str(d / "src.mov"), frames=N, codec="prores", timecode="01:00:00:00")
    dub = str(d / "dub_es.wav")
    with wave.open(dub, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes((np.sin(np.arange(8000) / 5.0) * 8000).astype(np.int16).tobytes())
    signing = Signing.from_options(cert, keyf)
    return {"dir": d, "cert": cert, "key": keyf, "ca": pem(ca), "cafile": cafile, "src": src,
            "dub": dub, "signing": signing}


def _facts(kit) -> Facts:
    return Facts(engine="lipflap", version="0.1.0", language="es", source=kit["src"],
                 dub=kit["dub"], shapes=None, mode="full", fps="25/1", first=0, last=N - 1,
                 timecode_first="01:00:00:00", track_source="audio")


def _render(kit, out, codec, signing=None, changed=CHANGED):
    """Copy the source to `out` in `codec` the way run_job writes, signed by DisclosureWriter.close."""
    info = probe(kit["src"])
    d = DisclosureWriter(signing or kit["signing"], _facts(kit), out, sequence=codec in ("png", "exr"))
    w = VideoWriter(out, codec=codec, fps=info.fps, width=info.width, height=info.height, like=info,
                    metadata=d.container_tags)
    for fr in read_frames(kit["src"], 0, N - 1, info=info):
        w.write_frame(fr)
    final = d.close(w, changed)
    return final, d


def _flip_video_byte(path):
    data = bytearray(open(path, "rb").read())
    at = data.find(b"mdat") + 500
    data[at] ^= 0x01
    open(path, "wb").write(data)


@pytest.mark.parametrize("name,codec", [("out.mov", "prores_hq"), ("out.mp4", "h264")])
def test_movie_credential_reads_back_and_validates(kit, tmp_path, name, codec):
    out, d = _render(kit, str(tmp_path / name), codec)
    v = verify(out, kit["ca"])
    assert v.found and v.where == "embedded"
    assert v.signature_ok and v.binding_ok and v.valid, v.failures
    assert v.trusted and v.state == "Trusted"
    assert v.signer == "lipflap test signer"
    acts = {a["action"]: a for a in v.actions}
    assert "c2pa.opened" in acts
    assert acts["c2pa.edited"]["digitalSourceType"] == COMPOSITE_AI
    assert acts["c2pa.edited"]["description"] == "lower face redrawn to match dubbed audio, language es"
    assert acts["c2pa.edited"]["softwareAgent"]["name"] == "lipflap"
    ings = {i["title"]: i for i in v.ingredients}
    assert ings["src.mov"]["relationship"] == "parentOf"
    assert ings["dub_es.wav"]["relationship"] == "componentOf"
    assert ings["src.mov"]["hash"].startswith("sha256:") and len(ings["src.mov"]["hash"]) == 71
    assert v.edits["frames_changed"] == [[2, 5], [8, 8]]
    assert v.edits["frames_passed_through"] == [[0, 1], [6, 7], [9, 9]]
    assert v.edits["engine"] == {"name": "lipflap", "version": "0.1.0"}
    # Still the same movie: frames, timecode, and the plain tag for tools that read no C2PA.
    info = probe(out)
    assert info.frame_count == N and info.start_timecode == "01:00:00:00"
    with av.open(out) as c:
        assert c.metadata["com.lipflap.lipsync"] == "1"
        assert "Lip-synced" in c.metadata["comment"]
    # The report section says the same.
    r = d.report()
    assert r["frames_changed"] == [[2, 5], [8, 8]] and r["credential"]["status"] == "signed"
    assert r["credential"]["identity_source"].startswith("command line")
    # Without the CA as a trust anchor the credential is intact but the signer unknown.
    v2 = verify(out)
    assert v2.valid and not v2.trusted


@pytest.mark.parametrize("name,codec", [("flip.mov", "prores_hq"), ("flip.mp4", "h264")])
def test_one_flipped_byte_breaks_the_binding(kit, tmp_path, name, codec, capsys):
    out, _ = _render(kit, str(tmp_path / name), codec)
    _flip_video_byte(out)
    v = verify(out, kit["ca"])
    assert v.found and not v.valid and not v.binding_ok
    assert any("Hash.mismatch" in f["code"] for f in v.failures)
    assert main(["credentials", out, "--trust", kit["cafile"]]) == 1
    text = capsys.readouterr().out
    assert "BROKEN" in text and "verdict: INVALID" in text


def test_reencoded_file_has_no_credential_but_keeps_the_tag(kit, tmp_path, capsys):
    out, _ = _render(kit, str(tmp_path / "a.mp4"), "h264")
    copy = str(tmp_path / "rewrapped.mp4")
    with av.open(out) as i, av.open(copy, "w", options={"movflags": "use_metadata_tags"}) as o:
        o.metadata.update(i.metadata)
        s = o.add_stream_from_template(i.streams.video[0])
        for pkt in i.demux(i.streams.video[0]):
            if pkt.dts is not None:
                pkt.stream = s
                o.mux(pkt)
    v = verify(copy)
    assert not v.found and "re-encoded" in v.note
    assert main(["credentials", copy]) == 1
    assert "NO CREDENTIAL" in capsys.readouterr().out


def test_png_sequence_gets_one_sidecar(kit, tmp_path):
    folder = str(tmp_path / "shot")
    final, d = _render(kit, folder, "png")
    names = sorted(os.listdir(folder))
    assert names.count("shot.c2pa") == 1 and len([n for n in names if n.endswith(".png")]) == N
    assert d.container_tags is None and d.report()["credential"]["where"] == "sidecar"
    v = verify(folder, kit["ca"])
    assert v.valid and v.trusted and v.where == "sidecar"
    assert v.edits["frames_changed"] == [[2, 5], [8, 8]]
    # A frame changed after signing is named; a deleted one too.
    frame = os.path.join(folder, "shot.000003.png")
    data = bytearray(open(frame, "rb").read())
    data[-20] ^= 0xFF
    open(frame, "wb").write(data)
    v = verify(os.path.join(folder, "shot.000000.png"), kit["ca"])
    assert not v.valid and not v.binding_ok and v.frames_changed_since_signing == ["shot.000003.png"]
    os.remove(os.path.join(folder, "shot.000007.png"))
    v = verify(os.path.join(folder, "shot.c2pa"), kit["ca"])
    assert not v.valid and v.frames_missing == ["shot.000007.png"]
    assert any("BROKEN" in line for line in describe(v))
    # Without its sidecar the sequence has no credential: exit status 1, as for a movie.
    os.remove(os.path.join(folder, "shot.c2pa"))
    assert main(["credentials", folder]) == 1


def test_no_signing_material_gives_a_labelled_credential_and_one_warning(kit, tmp_path):
    s = Signing.from_options(env={}, config=str(tmp_path / "absent.json"))
    assert s.enabled and s.identity.local
    assert "UNVERIFIED" in s.warning and "--sign-cert" in s.warning
    out, d = _render(kit, str(tmp_path / "local.mp4"), "h264", signing=s)
    assert d.warnings == [s.warning]
    v = verify(out)
    assert v.valid and v.local_unverified and not v.trusted
    assert "UNVERIFIED" in v.signer and "UNVERIFIED" in v.edits["signing"]
    assert d.report()["credential"]["status"] == "local_unverified"
    with av.open(out) as c:
        assert "UNVERIFIED" in c.metadata["com.lipflap.credential"]


def test_identity_from_environment_and_config(kit, tmp_path):
    s = Signing.from_options(env={"LIPFLAP_SIGN_CERT": kit["cert"], "LIPFLAP_SIGN_KEY": kit["key"]})
    assert not s.identity.local and s.identity.source.startswith("environment") and s.warning is None
    cfg = tmp_path / "signing.json"
    cfg.write_text(json.dumps({"cert": kit["cert"], "key": kit["key"]}))
    s = Signing.from_options(env={}, config=str(cfg))
    assert s.identity.source.startswith("config file") and s.identity.alg == "es256"


def test_bad_signing_material_fails_before_the_render(kit, tmp_path):
    _, other, other_key = make_ca_and_leaf("x", "other", "x", 2)
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(key_pem(other_key))
    with pytest.raises(CredentialError, match="does not belong"):
        Signing.from_options(kit["cert"], str(wrong))
    with pytest.raises(CredentialError, match="go together"):
        Signing.from_options(kit["cert"], None)
    with pytest.raises(CredentialError, match="both"):
        Signing.from_options(env={"LIPFLAP_SIGN_CERT": kit["cert"]})
    # A self-signed certificate: the SDK refuses it, and the preflight says so before any render.
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self-signed")])
    selfsigned = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                  .public_key(other_key.public_key()).serial_number(7)
                  .not_valid_before(now - datetime.timedelta(hours=1))
                  .not_valid_after(now + datetime.timedelta(days=2))
                  .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False,
                                               False), critical=True)
                  .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                                 critical=False)
                  .sign(other_key, hashes.SHA256()))
    leaf_only = tmp_path / "self.pem"
    leaf_only.write_bytes(pem(selfsigned))
    with pytest.raises(CredentialError, match="cannot sign with it|refuses it"):
        Signing.from_options(str(leaf_only), str(wrong))


def test_failed_signing_leaves_no_finished_file(kit, tmp_path):
    out = str(tmp_path / "never.mov")
    w = VideoWriter(out, codec="prores_hq", fps=25, width=64, height=64)
    w.write(np.zeros((64, 64, 3), np.uint8))

    def boom(tmp, final):
        assert os.path.exists(tmp) and not os.path.exists(final)
        raise CredentialError("signing failed")
    with pytest.raises(CredentialError):
        w.close(finish=boom)
    assert os.listdir(tmp_path) == []


def test_run_records_no_credentials_and_signs_with_the_given_certificate(kit, tmp_path, capsys):
    clip = make_clip(str(tmp_path / "noface.mp4"), frames=6, codec="h264")
    off, rep_off = str(tmp_path / "off.mov"), str(tmp_path / "off.json")
    assert main(["run", clip, "--audio", kit["dub"], "--language", "es", "-o", off,
                 "--report", rep_off, "--no-credentials", "--progress", "none"]) == 0
    disc = json.load(open(rep_off))["disclosure"]
    assert disc["credential"] == {"status": "off", "reason": "--no-credentials"}
    assert disc["lip_synced"] and disc["frames_passed_through"] == [[0, 5]]
    with av.open(off) as c:
        assert c.metadata["com.lipflap.credential"] == "none (--no-credentials)"
    assert main(["credentials", off]) == 1
    on, rep_on = str(tmp_path / "on.mp4"), str(tmp_path / "on.json")
    assert main(["run", clip, "--audio", kit["dub"], "--language", "es", "-o", on, "--report", rep_on,
                 "--sign-cert", kit["cert"], "--sign-key", kit["key"], "--progress", "none"]) == 0
    rep = json.load(open(rep_on))
    assert rep["disclosure"]["credential"]["status"] == "signed"
    assert not any("UNVERIFIED" in w for w in rep["warnings"])
    capsys.readouterr()
    assert main(["credentials", on, "--trust", kit["cafile"], "--require-trusted"]) == 0
    assert "signer trusted" in capsys.readouterr().out
    # What conform's timeline and EDL carry per render, read from the report.
    from lipflap.contract.report import RunReport, read_report
    from lipflap.provenance.summary import edl_comment, from_report
    s_on, s_off = from_report(read_report(rep_on)), from_report(read_report(rep_off))
    assert s_on["lip_synced"] and s_on["credential"] == "signed" and s_on["identity_source"]
    assert edl_comment(s_on) == ("* LIPFLAP: LIP-SYNCED (lower face redrawn to match dubbed audio, "
                                 "language es); C2PA credential embedded, signed by lipflap test signer")
    assert edl_comment(s_off).endswith("no C2PA credential (--no-credentials)")
    assert from_report(None) is None and from_report(RunReport()) is None  # an older engine's


def test_conform_timeline_and_edl_carry_the_disclosure(kit, tmp_path):
    from fractions import Fraction

    import opentimelineio as otio
    from opentimelineio.opentime import RationalTime, TimeRange

    from lipflap.conform.assemble import assemble, write_edl
    from lipflap.conform.cut import probe_media
    from lipflap.conform.plan import ClipJob
    from lipflap.contract.report import read_report
    render, d = _render(kit, str(tmp_path / "A_lipflap_es_v001.mp4"), "h264")
    rep = tmp_path / "A_lipflap_es_v001.json"
    rep.write_text(json.dumps({"disclosure": d.report()}))
    cut = otio.schema.Timeline(name="cut", global_start_time=RationalTime(90000, 25))
    v1 = otio.schema.Track(name="V1")
    v1.append(otio.schema.Clip(name="A", media_reference=otio.schema.ExternalReference(target_url=kit["src"]),
                               source_range=TimeRange(RationalTime(90000, 25), RationalTime(N, 25))))
    cut.tracks.append(v1)
    cj = ClipJob(clip_index=0, clip_name="A", track_name="V1", track_index=0, rate=Fraction(25),
                 record_in=90000, record_out=90000 + N, key="A_lipflap_es_v001", version=1,
                 media=kit["src"], media_fps=Fraction(25), media_start_tc=90000, cut_first=0,
                 cut_last=N - 1, status="done", render=render, report=str(rep),
                 run_report=read_report(str(rep)))  # read once when the job finished (cut.py)
    tl, bad = assemble(cut, [cj], probe_media, language="es")
    assert not bad
    clip = next(c for c in tl.find_clips() if c.name == "A_lipflap_es_v001")
    disc = clip.metadata["lipflap"]["disclosure"]
    assert disc["lip_synced"] and disc["credential"] == "signed" and disc["credential_where"] == "embedded"
    text = open(write_edl(tl, str(tmp_path / "cut.edl"))[0]).read()
    lines = text.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("* FROM CLIP NAME:"))
    assert lines[at + 1] == ("* LIPFLAP: LIP-SYNCED (lower face redrawn to match dubbed audio, "
                             "language es); C2PA credential embedded, signed by lipflap test signer")


def test_host_placements_carry_the_disclosure(kit, tmp_path, capsys):
    """Resolve's placements name each render's report; `lipflap timeline` carries the disclosure."""
    import opentimelineio as otio

    from lipflap.contract.placements import Placement, Placements
    render, d = _render(kit, str(tmp_path / "B_lipflap_es_v001.mov"), "prores_hq")
    rep = tmp_path / "B_lipflap_es_v001.json"
    rep.write_text(json.dumps({"disclosure": d.report()}))
    pl = Placements(name="Reel 1", rate="25", start=90000, track="lipflap es", language="es",
                    placements=[Placement(render, 90000, N, 90000, metadata={"report": str(rep)})])
    pl.save(str(tmp_path / "p.json"))
    out, edl = tmp_path / "cut.otio", tmp_path / "cut.edl"
    assert main(["timeline", str(tmp_path / "p.json"), "-o", str(out), "--edl", str(edl),
                 "--progress", "none"]) == 0
    clip = otio.adapters.read_from_file(str(out)).find_clips()[0]
    assert clip.metadata["lipflap"]["disclosure"]["credential"] == "signed"
    assert "* LIPFLAP: LIP-SYNCED (lower face redrawn" in edl.read_text()


def test_config_file_names_the_trust_anchors(kit, tmp_path):
    from lipflap.provenance.identity import configured_trust
    cfg = tmp_path / "signing.json"
    cfg.write_text(json.dumps({"cert": kit["cert"], "key": kit["key"], "trust": kit["cafile"]}))
    pem_bytes, path = configured_trust(str(cfg))
    assert pem_bytes == kit["ca"] and path == kit["cafile"]
    assert configured_trust(str(tmp_path / "absent.json")) == (None, None)
    cfg.write_text(json.dumps({"cert": kit["cert"], "key": kit["key"], "trust": "missing.pem"}))
    with pytest.raises(CredentialError, match="trust anchors"):
        configured_trust(str(cfg))
    cfg.write_text("{not json")  # a broken config is an error naming it, never skipped
    with pytest.raises(CredentialError, match="cannot read the signing config"):
        configured_trust(str(cfg))


def test_a_render_re_signed_downstream_still_shows_lipflaps_edit(kit, tmp_path):
    """An editor that writes its own credential keeps lipflap's as its ingredient's manifest."""
    import c2pa

    from lipflap.provenance.sign import context, signer
    out, _ = _render(kit, str(tmp_path / "r.mp4"), "h264")
    later = str(tmp_path / "graded.mp4")
    with context() as ctx, signer(kit["signing"].identity) as s:
        b = c2pa.Builder({"claim_generator_info": [{"name": "some grading tool", "version": "9"}],
                          "title": "graded.mp4", "assertions": [{"label": "c2pa.actions.v2", "data": {
                              "actions": [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["r"]}},
                                          {"action": "c2pa.color_adjustments"}]}}]}, context=ctx)
        with b, open(out, "rb") as f:
            b.add_ingredient({"title": "r.mp4", "relationship": "parentOf", "label": "r"}, "video/mp4", f)
            f.seek(0)
            with open(later, "w+b") as dst:
                b.sign(s, "video/mp4", f, dst)
    v = verify(later, kit["ca"])
    assert v.valid and v.generator == "some grading tool 9"
    assert v.edits["frames_changed"] == [[2, 5], [8, 8]] and "re-signed after lipflap" in v.note
    assert any(a.get("digitalSourceType") == COMPOSITE_AI for a in v.actions)


def test_credentials_keeps_the_progress_json_protocol(tmp_path, capsys):
    """--progress json: one object per line, the verdict as the last `result` (docs/cli.md)."""
    from lipflap.cli import main
    odd = tmp_path / "not_a_render.mov"
    odd.write_bytes(b"x")
    assert main(["credentials", str(odd), "--progress", "json"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    last = json.loads(lines[-1])
    assert all(json.loads(line) for line in lines)
    assert last["result"]["found"] is False and last["result"]["ok"] is False


def test_a_movie_too_large_to_embed_gets_a_sidecar_that_binds_the_file(kit, tmp_path, monkeypatch,
                                                                        capsys):
    # Embedding holds about twice the movie in the SDK's memory; above the limit (here 0 bytes)
    # the credential goes beside the movie, over its streamed hash.
    from lipflap.provenance import sign as sign_mod
    monkeypatch.setattr(sign_mod, "EMBED_MAX_BYTES", 0)
    out, d = _render(kit, str(tmp_path / "long.mov"), "prores_hq")
    assert os.path.isfile(out + ".c2pa")
    assert d.report()["credential"]["where"] == "sidecar"
    v = verify(out, kit["ca"])
    assert v.found and v.where == "sidecar" and v.valid and v.binding_ok and v.trusted, v.failures
    assert v.edits["frames_changed"] == [[2, 5], [8, 8]]
    assert main(["credentials", out, "--trust", kit["cafile"]]) == 0
    assert "the file is exactly as signed" in capsys.readouterr().out
    # One flipped byte in the movie breaks it.
    _flip_video_byte(out)
    v = verify(out, kit["ca"])
    assert v.found and not v.valid and not v.binding_ok
    assert main(["credentials", out, "--trust", kit["cafile"]]) == 1
    assert "BROKEN (the file was changed" in capsys.readouterr().out
    # A smaller render of the same name embeds again, and the old sidecar goes.
    monkeypatch.setattr(sign_mod, "EMBED_MAX_BYTES", 2 << 30)
    out, _ = _render(kit, out, "prores_hq")
    assert not os.path.exists(out + ".c2pa")
    assert verify(out, kit["ca"]).where == "embedded"


def test_signing_starts_is_told_once_the_output_is_complete_and_before_it_is_signed(kit, tmp_path):
    """The render hands the idle core work as the signing starts (the quick QC's held-back
    re-tracks): `signing_starts` runs after the encoder's last packet is in the finished file and
    before the credential is signed into it; without signing, before the writer is finished."""
    import os
    info = probe(kit["src"])
    for signing in (kit["signing"], Signing.from_options(None, None, enabled=False)):
        out = str(tmp_path / f"out_{signing.enabled}.mov")
        d = DisclosureWriter(signing, _facts(kit), out, sequence=False)
        w = VideoWriter(out, codec="prores_hq", fps=info.fps, width=info.width,
                        height=info.height, like=info, metadata=d.container_tags)
        for fr in read_frames(kit["src"], 0, N - 1, info=info):
            w.write_frame(fr)
        seen = []
        signed = d._sign
        d._sign = lambda tmp, final: (seen.append(("sign", os.path.getsize(tmp))), signed(tmp, final))
        d.close(w, CHANGED, signing_starts=lambda: seen.append(("starts", w._out is None)))
        if signing.enabled:
            assert [k for k, _ in seen] == ["starts", "sign"] and seen[0][1] is True
        else:
            assert seen == [("starts", False)]
        assert os.path.exists(out)

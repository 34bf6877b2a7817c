"""QC reports on disk: JSON, or one self-contained HTML page (inline CSS, images as base64 PNG,
the JSON itself embedded) that can be mailed or attached to a shot without losing anything.
"""
from __future__ import annotations

import base64
import html
import json
import os

import numpy as np

from ..contract.errors import LipflapError
from . import plots
from .sheet import contact_sheet

LABELS = {
    "sync_r": "Sync: r of measured vs expected aperture",
    "sync_offset_frames": "Sync: best offset (frames, + = mouth late)",
    "bilabial_closure": "Bilabial closure (p/b/m)",
    "open_vowel_opening": "Open-vowel opening",
    "pause_rest": "Pause rest",
    "face_found": "Face found in output",
    "mouth_aperture_range": "Mouth aperture range (eye distances, 5th-95th pct)",
    "psnr_outside_lower_face_db": "PSNR outside the lower face (dB, median)",
    "mouth_sharpness_ratio": "Mouth-box sharpness ratio (output / source)",
    "mouth_roughness_ratio": "Mouth-box temporal roughness ratio (output / source)",
    "lower_face_colour_shift": "Lower-face skin colour shift (8-bit levels)",
    "timing_lag_frames": "Timing: best lag against the phones (frames, + = mouth late)",
    "timing_r0": "Timing: r with the opening the phones ask for, at lag 0",
    "rounding_width_ratio": "Rounding: mouth width on rounded over spread vowels",
    "lip_shape_outside": "Lip shape or colour outside the range of the source (fraction of frames)",
    "frames_dropped": "Frames dropped",
    "frames_added": "Frames added",
}
COLOURS = {"pass": "#2e7d32", "warn": "#b26a00", "fail": "#c62828", "n/a": "#757575"}


def images_for(report: dict, extras: dict | None = None) -> dict[str, bytes]:
    """PNG bytes of the report's pictures: aperture plot, PSNR plot, contact sheet."""
    s = report["series"]
    fig = report["figures"]
    r = fig["sync_r"]["value"]
    title = "mouth aperture: expected vs measured on the output (normalised to the clip's range)"
    if r is not None:
        title += f"   r={r:.2f} at {fig['sync_r'].get('offset_frames')} frames"
    out = {"aperture": plots.png_bytes(plots.aperture_plot(
        s["expected_aperture"], s["measured_normalized"], report["events"], report["fps"],
        title=title))}
    if s.get("psnr_db"):
        out["psnr"] = plots.png_bytes(plots.psnr_plot(s["psnr_db"], report["fps"]))
    if extras and extras.get("sheet_frames") and extras.get("crop_box"):
        picks = extras.get("sheet_events") or []
        mids = {(e.start, e.end, e.kind) for e in picks}
        rows = [e for e in report["events"] if (e["start"], e["end"], e["kind"]) in mids]
        img = contact_sheet(rows, extras["sheet_frames"], extras["crop_box"], report["fps"])
        if img is not None:
            out["sheet"] = plots.png_bytes(img)
    return out


def _fmt(v) -> str:
    if v is None:
        return "&ndash;"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return html.escape(str(v))


def render_html(report: dict, images: dict[str, bytes]) -> str:
    """One HTML page: verdict, figures with targets and verdicts, flagged ranges, plots, sheet."""
    e = html.escape
    fps = report.get("fps") or 25.0
    rows = []
    for name, f in report["figures"].items():
        detail = {k: v for k, v in f.items() if k not in ("value", "verdict", "target")}
        det = ", ".join(f"{k}={_fmt(v) if not isinstance(v, list) else e(str(v[:12]))}"
                        for k, v in detail.items())
        rows.append(f"<tr><td>{e(LABELS.get(name, name))}<br><code>{e(name)}</code></td>"
                    f"<td class=num>{_fmt(f['value'])}</td><td>{e(f['target'])}</td>"
                    f"<td><span class=v style='background:{COLOURS[f['verdict']]}'>"
                    f"{e(f['verdict'])}</span></td><td class=det>{det}</td></tr>")
    flags = []
    for r in report["flagged_ranges"]:
        flags.append(f"<tr><td class=num>{r['start']}&ndash;{r['end']}</td>"
                     f"<td class=num>{r['start'] / fps:.2f}&ndash;{(r['end'] + 1) / fps:.2f} s</td>"
                     f"<td>{e(r['reason'])}</td><td><code>{e(r['figure'])}</code></td></tr>")
    imgs = []
    captions = {
        "aperture": "Blue: the aperture the mouth-shape track asks for. Orange: the aperture "
                    "measured on the output's pixels (Face Mesh), normalised to the clip's own "
                    "range. Shaded: checked moments (green p/b/m, blue open vowels, grey pauses; "
                    "red where missed). Dashed: closed below 0.2, open above 0.45.",
        "psnr": "PSNR of everything outside the dilated lower face, against the source.",
        "sheet": "Lower face at bilabials, open vowels and pauses: source | output | "
                 "difference x4. Look for closed lips on p/b/m, open mouths on vowels, rest in "
                 "pauses, and no seam, blur or colour shift.",
    }
    for key in ("aperture", "psnr", "sheet"):
        if key in images:
            b64 = base64.b64encode(images[key]).decode("ascii")
            imgs.append(f"<figure><img alt='{key}' src='data:image/png;base64,{b64}'>"
                        f"<figcaption>{e(captions[key])}</figcaption></figure>")
    phones_note = ""
    ev_phones = [x for x in report["events"] if x["kind"] != "pause"]
    if ev_phones:
        listing = ", ".join(f"{e(x['label'])}@{x['start']}" for x in ev_phones[:40])
        phones_note = f"<p class=small>Checked phones (frame): {listing}</p>"
    meta = []
    for k in ("video", "source", "audio", "shapes", "text", "language", "audio_offset_s", "width",
              "height", "fps", "frames", "events_from"):
        if report.get(k) is not None:
            meta.append(f"<tr><td>{e(k)}</td><td>{e(str(report[k]))}</td></tr>")
    data = json.dumps(report, ensure_ascii=False).replace("</", "<\\/")
    verdict = report["verdict"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>lipflap QC: {e(os.path.basename(str(report.get('video', ''))))} ({e(verdict)})</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }}
h1 {{ font-size: 20px; }} h2 {{ font-size: 16px; margin-top: 28px; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ddd; padding: 4px 10px;
vertical-align: top; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.det {{ color: #666; font-size: 12px; }} code {{ color: #555; font-size: 12px; }}
.v {{ color: #fff; padding: 1px 8px; border-radius: 3px; font-weight: 600; }}
img {{ max-width: 100%; border: 1px solid #ddd; }} figcaption, .small {{ color: #555; font-size: 12px; }}
</style></head><body>
<h1>lipflap QC report <span class=v style="background:{COLOURS[verdict]}">{e(verdict)}</span></h1>
<table>{''.join(meta)}</table>
<h2>Figures</h2>
<table><tr><th>figure</th><th>value</th><th>target</th><th>verdict</th><th>detail</th></tr>
{''.join(rows)}</table>
<h2>Flagged ranges ({len(flags)})</h2>
{'<table><tr><th>frames</th><th>time</th><th>reason</th><th>figure</th></tr>' + ''.join(flags)
 + '</table>' if flags else '<p>None.</p>'}
<h2>Plots and contact sheet</h2>
{''.join(imgs)}
{phones_note}
<script type="application/json" id="lipflap-qc-report">{data}</script>
</body></html>
"""


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def write_report(path: str, report: dict, extras: dict | None = None) -> str:
    """Write `report` as JSON (.json) or self-contained HTML (.html/.htm); atomically."""
    from ..mouth.track import atomic_write_text
    report = _json_safe(report)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".json":
        atomic_write_text(path, json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    elif ext in (".html", ".htm"):
        atomic_write_text(path, render_html(report, images_for(report, extras)))
    else:
        raise LipflapError(f"{path}: a QC report is written as .json or .html; give -o with one "
                           f"of those extensions.")
    make_readable(path)
    return path


def make_readable(path: str) -> None:
    """The atomic writer's temporary file is private (0600); a report is for sharing, so give it
    the permissions a plainly created file would have."""
    mask = os.umask(0)
    os.umask(mask)
    try:
        os.chmod(path, 0o666 & ~mask)
    except OSError:
        pass

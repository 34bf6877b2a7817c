"""lipflap's own track JSON (docs/cli.md), one frame per line so artists can edit and diff
it; MouthTrack.load reads it back."""
from __future__ import annotations

import json

FORMAT = "json"
EXTENSIONS = (".json",)


def render(track, options) -> str:
    d = track.to_dict()
    lines = ["{"]
    keys = list(d)
    for k, key in enumerate(keys):
        comma = "," if k < len(keys) - 1 else ""
        value = d[key]
        if isinstance(value, list) and value:
            items = [json.dumps(v, ensure_ascii=False) for v in value]
            lines.append(f" {json.dumps(key)}: [")
            lines.extend(f"  {item}{',' if i < len(items) - 1 else ''}" for i, item in enumerate(items))
            lines.append(f" ]{comma}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"

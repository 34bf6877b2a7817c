"""A dialogue script with speaker turns, and when each turn is spoken in one mixed dub.

    parse_turns(text) -> [Turn] or None            "[ANNA] Hola. [BEN] ..." or JSON [{speaker, text}]
    place_turns(turns, segments) -> [(start, end)] seconds of the dub each turn covers

Placement splits the dub's speech segments (voice activity, in order) into one consecutive group
per turn, the groups' shares of speech time as close as they can be to the turns' shares of the
script's letters (least squares, dynamic programming): a dialogue changes speaker at a pause, and
speech time follows text length closely enough to tell which pause.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..contract.errors import JobError

_TAG = re.compile(r"\[([^\[\]]+)\]")


@dataclass
class Turn:
    speaker: str
    text: str


def parse_turns(text: str, where: str = "script") -> list[Turn] | None:
    """The script's turns, or None when it names no speakers (a plain script)."""
    s = text.strip()
    if s.startswith("[{") or s.startswith("[ {") or s.startswith("[\n"):
        try:
            data = json.loads(s)
        except json.JSONDecodeError as e:
            raise JobError(f"{where}: the script looks like JSON turns but is not valid JSON at "
                           f"line {e.lineno} column {e.colno} ({e.msg}); fix it.") from None
        if not isinstance(data, list) or not all(
                isinstance(t, dict) and isinstance(t.get("speaker"), str)
                and isinstance(t.get("text"), str) for t in data):
            raise JobError(f"{where}: JSON turns must be a list of {{\"speaker\", \"text\"}} "
                           f"objects with string values; fix the script.")
        turns = [Turn(t["speaker"].strip(), t["text"].strip()) for t in data]
    else:
        parts = _TAG.split(s)
        if len(parts) == 1:
            return None
        if parts[0].strip():
            raise JobError(f"{where}: the script's text {parts[0].strip()[:30]!r} comes before "
                           f"the first [SPEAKER] tag; start it with the speaker's tag.")
        turns = [Turn(parts[k].strip(), parts[k + 1].strip()) for k in range(1, len(parts), 2)]
    turns = [t for t in turns if t.text]
    if not turns:
        raise JobError(f"{where}: the script's turns have no text; give each [SPEAKER] its line.")
    return turns


def script_of(turns: list[Turn]) -> str:
    """The words of every turn, in order (what the aligner reads)."""
    return " ".join(t.text for t in turns)


def place_turns(turns: list[Turn], segments: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(start, end) seconds per turn; segments: the dub's speech, in order. A turn gets at least
    one segment; with fewer segments than turns the longest are halved until there are enough
    (the split then falls inside speech, and the report's assignment shows it)."""
    segs = sorted((float(a), float(b)) for a, b in segments if b > a)
    k = len(turns)
    if not segs:
        return []
    while len(segs) < k:
        j = max(range(len(segs)), key=lambda i: segs[i][1] - segs[i][0])
        a, b = segs[j]
        segs[j:j + 1] = [(a, (a + b) / 2), ((a + b) / 2, b)]
    m = len(segs)
    dur = [b - a for a, b in segs]
    total = sum(dur)
    letters = [max(1, len(re.sub(r"\W", "", t.text))) for t in turns]
    share = [v / sum(letters) for v in letters]
    pre = [0.0]
    for d in dur:
        pre.append(pre[-1] + d)
    inf = float("inf")
    # cost[i][j]: turns 0..i-1 placed on segments 0..j-1
    cost = [[inf] * (m + 1) for _ in range(k + 1)]
    back = [[0] * (m + 1) for _ in range(k + 1)]
    cost[0][0] = 0.0
    for i in range(1, k + 1):
        for j in range(i, m - (k - i) + 1):
            for s in range(i - 1, j):
                c = cost[i - 1][s] + ((pre[j] - pre[s]) / total - share[i - 1]) ** 2
                if c < cost[i][j]:
                    cost[i][j], back[i][j] = c, s
    out, j = [], m
    for i in range(k, 0, -1):
        s = back[i][j]
        out.append((segs[s][0], segs[j - 1][1]))
        j = s
    return out[::-1]

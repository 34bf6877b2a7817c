"""Put eSpeak NG's waveform generator back into its just-initialised state before each synthesis.

The library keeps counters in C statics that run on across utterances and that neither
espeak_Initialize nor a voice change resets: the pitch-flutter table index (a function-static in
wavegen.c), the glottal cycle counter behind "roughness", the gain control, the harmonic buffer
switch, the echo ring buffer, the Klatt generator's noise state, and the noise generator's seed.
Measured with espeakng-loader 0.2.4 (eSpeak NG 1.52): the same English sentence synthesised four
times in one process gave 95458, 95691, 95692 and 95702 samples; with the flutter index alone
restored, a French f3 voice in between still changed the samples (roughness cycle count).  With
every value below restored and the seed fixed, the samples are identical after fr+f3, de+klatt,
es+m3, en+croak and en+klatt3, and the restore costs about 0.02 ms per call.

Only plain numbers and buffers are saved and restored, never pointers, so voice and dictionary
memory the library allocated since the snapshot is left alone.  The names come from the library's
own symbol table (the wheel ships it unstripped), read once.
"""
from __future__ import annotations

import ctypes
import struct

from lipflap.contract.errors import LipflapError

# wavegen.c and klatt.c statics (function-statics carry a ".N" suffix in the table, dropped here).
_CARRIED = ("Flutter_ix", "cycle_count", "agc", "amplitude2", "h_switch_sign", "maxh", "maxh2",
            "hswitch", "wavephase", "echo_head", "echo_tail", "echo_buf",
            "glotlast", "vlast", "nlast", "noise", "skew", "time_count")
_ANCHOR = "espeak_Synth"  # an exported function whose address gives the library's load base
_SEED = 0


def read_symbols(path: str) -> dict[str, list[tuple[int, int]]]:
    """{name without a ".N" suffix: [(offset, size), ...]} from an ELF64 library's .symtab."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:  # 64-bit little-endian only
        return {}
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]
    out: dict[str, list[tuple[int, int]]] = {}
    for _name, kind, _fl, _addr, offset, size, link, _info, _align, _ent in sections:
        if kind != 2:  # SHT_SYMTAB
            continue
        strtab = sections[link][4]
        for off in range(offset, offset + size, 24):
            st_name, _i, _o, _shndx, value, st_size = struct.unpack_from("<IBBHQQ", data, off)
            end = data.index(b"\0", strtab + st_name)
            name = data[strtab + st_name:end].decode("ascii", "replace").split(".")[0]
            out.setdefault(name, []).append((value, st_size))
    return out


class SynthState:
    """A snapshot of the carried statics, taken right after espeak_Initialize."""

    def __init__(self, lib: ctypes.CDLL, path: str) -> None:
        symbols = read_symbols(path)
        missing = [n for n in (_ANCHOR,) + _CARRIED if n not in symbols]
        if missing:
            raise LipflapError(f"the eSpeak NG library {path} has no symbol for "
                               f"{', '.join(missing)}, so its synthesis cannot be made repeatable; "
                               "reinstall lipflap so that espeakng-loader 0.2.4 is present.")
        base = ctypes.cast(getattr(lib, _ANCHOR), ctypes.c_void_p).value - symbols[_ANCHOR][0][0]
        self._saved = [(base + value, ctypes.string_at(base + value, size))
                       for name in _CARRIED for value, size in symbols[name] if size > 0]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_ng_SetRandSeed.restype = ctypes.c_int
        self._lib = lib

    def restore(self) -> None:
        for address, saved in self._saved:
            ctypes.memmove(address, saved, len(saved))
        self._lib.espeak_ng_SetRandSeed(_SEED)

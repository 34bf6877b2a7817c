"""`lipflap credentials FILE`: read and verify a render's Content Credential (C2PA).

Prints what was changed, by what, from which inputs, which frames; whether the signature is
valid, whether the hard binding holds (a re-encoded, trimmed or byte-flipped file says so) and
whether the signer is trusted. Exit status 0 when the credential is valid, 1 when it is missing
or invalid (and, with --require-trusted, when the signer is not trusted).
"""
from __future__ import annotations

import argparse
import json

from ..cli import add_progress_option
from ..provenance import CredentialError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "credentials", help="verify a render's Content Credential (C2PA)",
        description="Read and verify the C2PA Content Credential of a lipflap render: what was "
                    "changed, by what, and whether the signature and the file's binding hold.")
    p.add_argument("file", help="a .mov/.mp4 render, or an image sequence's folder, frame, %%d "
                                "pattern or .c2pa sidecar")
    p.add_argument("--trust", action="append", default=[], metavar="CA.pem",
                   help="trust anchors (PEM; the facility's root CA); repeatable (default: the "
                        "\"trust\" file named in the user config's lipflap/signing.json)")
    p.add_argument("--require-trusted", action="store_true", dest="require_trusted",
                   help="also fail (exit 1) when the signer does not chain to --trust")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, progress) -> int:
    from ..provenance.verify import describe, verify
    anchors = b""
    for path in args.trust:
        try:
            with open(path, "rb") as f:
                anchors += f.read()
        except OSError as e:
            raise CredentialError(f"{path}: cannot read the trust anchors ({e.strerror}); give the "
                                  f"path of the facility's root CA certificate (PEM).") from None
    if not args.trust:
        from ..provenance.identity import configured_trust
        anchors, _ = configured_trust()
    v = verify(args.file, anchors or None)
    ok = v.found and v.valid and (v.trusted or not args.require_trusted)
    verdict = {**v.to_dict(), "ok": ok}
    if progress.mode == "json":
        # The host protocol (docs/cli.md): one object per line, the verdict as the last `result`.
        progress.result(verdict)
    elif args.json:
        print(json.dumps(verdict, indent=1))
    else:
        print("\n".join(describe(v)))
        if v.valid and args.require_trusted and not v.trusted:
            print("lipflap: the signer is not trusted (--require-trusted).")
    return 0 if ok else 1

"""Disclosure and provenance: every render says what was changed, by what, and where.

Three forms, from one set of facts (facts.py): a C2PA Content Credential signed with the
facility's certificate (sign.py, identity.py), a plain container tag on .mov/.mp4 renders, and the
run report's `disclosure` section (disclosure.py). `lipflap credentials FILE` reads and verifies
them (verify.py). See docs/provenance.md.
"""
from .disclosure import DisclosureWriter, Signing
from .facts import Facts
from .identity import CredentialError, Identity

__all__ = ["CredentialError", "DisclosureWriter", "Facts", "Identity", "Signing"]

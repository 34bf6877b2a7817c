"""Errors a user can hit.

Every failure that input, options or the environment can cause is raised as a LipflapError whose
message is one sentence: which file, which frame or timecode, and what to do. The CLI prints it to
stderr and exits non-zero; nothing else ever reaches the user as a traceback.
"""


class LipflapError(Exception):
    """A failure the user can act on. `exit_code` is what the CLI exits with."""

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class MediaError(LipflapError):
    """A media file that cannot be read or written as asked."""


class JobError(LipflapError):
    """A job (JSON or command-line options) that breaks the job contract."""


class RangeError(LipflapError):
    """A frame range or timecode outside the media."""


class FormatError(LipflapError, ValueError):
    """A frame rate or timecode label that does not parse (also a ValueError, so host code that
    catches ValueError around a parse keeps working)."""

"""Errors that interp raises, and what a user sees of them.

    InterpError                 base: one clear line for the user, never a traceback
    ├── ConfigError             a bad option, flag, language code or configuration file
    ├── InputError              an audio file or device that cannot be used
    ├── ModelUnavailable        a model that is not installed; names the command that installs it
    ├── BackendError            an engine failed while running (carries the stage)
    ├── ProtocolError           a malformed message from a client
    └── ArchiveError            the archive cannot be read or written

Adapters convert library exceptions with ``raise ... from exc`` so the cause is kept
for ``--debug`` while the user reads only ``str(error)``.
"""

from __future__ import annotations


class InterpError(Exception):
    """Base class: its message is the one line printed to the user."""


class ConfigError(InterpError):
    """An option, flag, language code or configuration file is invalid."""


class InputError(InterpError):
    """An audio file or capture device cannot be read."""


class ModelUnavailable(InterpError):
    """A model is missing or damaged; the message names the command that installs it."""


class BackendError(InterpError):
    """An engine (speech, voice detection, translation) failed while running."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage = stage


class ProtocolError(InterpError):
    """A client sent a message that does not follow the wire protocol."""


class ArchiveError(InterpError):
    """The archive cannot be read or written."""

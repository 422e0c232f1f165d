"""The protocol every translation backend follows.

A backend translates a batch of plain-text sentences from one language to another and
says which pairs it serves.  It raises :class:`~interp.errors.BackendError` when its
engine fails; it never returns the source text in place of a translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class PairInfo:
    source: str
    target: str
    backend: str
    detail: str
    """Where the pair comes from: a package, an Apertium mode, a pivot."""


class Translator(Protocol):
    name: str

    def pairs(self) -> list[PairInfo]:
        """The language pairs this backend serves, as installed right now."""
        ...

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """One translation per input text, in order (runs on a worker thread)."""
        ...

    def close(self) -> None: ...

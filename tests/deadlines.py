"""Deadlines for tests that wait on a real clock, scaled to the machine.

A slower or busier machine takes longer for the same work, so every wall-clock limit
in the tests is multiplied by ``INTERP_TESTS_TIMEOUT_FACTOR`` (default 1).  A
:class:`Deadline` is fixed when it is made and never restarts: a wait that keeps
receiving unrelated messages still ends on time.
"""

from __future__ import annotations

import os
import time

FACTOR_VARIABLE = "INTERP_TESTS_TIMEOUT_FACTOR"


def timeout_factor() -> float:
    raw = os.environ.get(FACTOR_VARIABLE, "").strip()
    if not raw:
        return 1.0
    try:
        factor = float(raw)
    except ValueError as exc:
        raise ValueError(f"{FACTOR_VARIABLE} must be a number, not {raw!r}") from exc
    if factor <= 0:
        raise ValueError(f"{FACTOR_VARIABLE} must be positive, not {raw!r}")
    return factor


def scaled(seconds: float) -> float:
    """``seconds`` of wall-clock allowance on this machine."""
    return seconds * timeout_factor()


class Deadline:
    """A point in monotonic time, ``scaled(seconds)`` from when it is made."""

    def __init__(self, seconds: float) -> None:
        self.allowed = scaled(seconds)
        self._end = time.monotonic() + self.allowed

    def remaining(self) -> float:
        """Seconds left, never negative (an ``asyncio.wait_for`` or ``timeout=`` value)."""
        return max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self._end

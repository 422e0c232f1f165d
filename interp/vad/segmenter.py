"""Speech/silence hysteresis over window probabilities (sans-I/O).

Speech starts at the first window at or above ``threshold``; it ends once the
probability has stayed below ``neg_threshold`` for ``min_silence_ms``.  Times are
counted in windows, so the result never depends on how the audio was chunked.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import SAMPLE_RATE, VadSettings
from .base import WINDOW_SAMPLES


@dataclass(frozen=True, slots=True)
class Boundary:
    """Speech began (``started``) or ended at the window with this index."""

    started: bool
    window: int
    """Window index: speech starts at its first sample, or ends at its first sample."""


class VadSegmenter:
    """Turns a stream of window probabilities into speech start/end boundaries."""

    def __init__(self, settings: VadSettings) -> None:
        self._threshold = settings.threshold
        self._neg_threshold = settings.neg_threshold
        window_ms = WINDOW_SAMPLES * 1000 / SAMPLE_RATE
        self._min_silence_windows = max(1, round(settings.min_silence_ms / window_ms))
        self.reset()

    def reset(self) -> None:
        self.in_speech = False
        self._window = 0
        self._silence_since: int | None = None

    def feed(self, probability: float) -> Boundary | None:
        """Consume the next window's probability; return a boundary if one is found."""
        index = self._window
        self._window += 1
        if not self.in_speech:
            if probability >= self._threshold:
                self.in_speech = True
                self._silence_since = None
                return Boundary(started=True, window=index)
            return None
        if probability >= self._threshold:
            self._silence_since = None
        elif probability < self._neg_threshold and self._silence_since is None:
            self._silence_since = index
        if self._silence_since is not None and index + 1 - self._silence_since >= (
            self._min_silence_windows
        ):
            self.in_speech = False
            end = self._silence_since
            self._silence_since = None
            return Boundary(started=False, window=end)
        return None

"""The speech-probability model seen by the streaming core."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

WINDOW_SAMPLES = 512
"""Silero judges 32 ms windows of 16 kHz audio."""


class SpeechProbModel(Protocol):
    """Gives one speech probability per 512-sample window, keeping state across calls."""

    def probabilities(self, windows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Score ``windows`` of shape ``(n, 512)``, which follow the previous call's."""
        ...

    def reset(self) -> None:
        """Forget the state, for a new stream."""
        ...

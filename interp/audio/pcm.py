"""Sample conversions and the growable, trimmable buffer the streaming core keeps."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]


def int16_to_float32(data: bytes) -> Samples:
    """Little-endian signed 16-bit PCM to float32 in [-1, 1)."""
    if len(data) % 2:
        raise ValueError("PCM s16le data must have an even number of bytes")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float32_to_int16(samples: Samples) -> bytes:
    """float32 samples to little-endian signed 16-bit PCM, clipped."""
    clipped = np.clip(samples, -1.0, 32767 / 32768)
    return (clipped * 32768.0).astype("<i2").tobytes()


class SampleBuffer:
    """Audio of the current utterance, addressed by absolute session sample numbers.

    Appends are amortised O(1); trimming drops a prefix without reallocating, so a
    session of any length keeps the memory of one buffer's worth of audio.
    """

    def __init__(self, capacity: int = 16_000 * 30) -> None:
        self._data = np.zeros(capacity, dtype=np.float32)
        self._length = 0
        self.start_sample = 0
        """Session sample number of the first sample held."""

    def __len__(self) -> int:
        return self._length

    @property
    def end_sample(self) -> int:
        return self.start_sample + self._length

    def reset(self, start_sample: int) -> None:
        self._length = 0
        self.start_sample = start_sample

    def append(self, samples: Samples) -> None:
        needed = self._length + len(samples)
        if needed > len(self._data):
            grown = np.zeros(max(needed, 2 * len(self._data)), dtype=np.float32)
            grown[: self._length] = self._data[: self._length]
            self._data = grown
        self._data[self._length : needed] = samples
        self._length = needed

    def trim_before(self, sample: int) -> None:
        """Drop every sample before session sample ``sample``."""
        drop = min(max(0, sample - self.start_sample), self._length)
        if drop:
            keep = self._length - drop
            self._data[:keep] = self._data[drop : self._length]
            self._length = keep
            self.start_sample += drop

    def view(self) -> Samples:
        """The held samples (a view: copy it before the buffer changes)."""
        return self._data[: self._length]

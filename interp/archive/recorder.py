"""The session's audio, kept as Ogg/Opus while it arrives, for the archive's player.

Ogg pages are written as they fill (every second or so at 24 kbit/s), so a file cut
short by a crash still plays up to its last page.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.pcm import Samples
from ..config import SAMPLE_RATE

logger = logging.getLogger(__name__)


class AudioRecorder:
    def __init__(self, path: Path, bit_rate: int = 24_000) -> None:
        import av

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._container: Any = av.open(str(path), "w", format="ogg")
        self._stream: Any = self._container.add_stream("libopus", rate=SAMPLE_RATE)
        self._stream.layout = "mono"
        self._stream.bit_rate = bit_rate
        self._written = 0
        self._failed = False

    def write(self, samples: Samples) -> None:
        if self._failed or len(samples) == 0:
            return
        import av

        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1),
            format="flt",
            layout="mono",
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._written
        self._written += len(samples)
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except (av.error.FFmpegError, OSError) as exc:  # a full disk: captions go on
            self._failed = True
            logger.error("session audio %s stopped: %s", self.path, exc)

    def close(self) -> None:
        if not self._failed:
            try:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
            except Exception as exc:  # noqa: BLE001 - closing what can be closed
                logger.error("session audio %s: %s", self.path, exc)
        self._container.close()

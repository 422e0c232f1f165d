"""The session's audio, kept as Ogg/Opus while it arrives, for the archive's player.

Encoding and writing run on the recorder's own thread, fed by a bounded queue: the
event loop only hands chunks over, and a chunk the full queue cannot take is dropped
and counted (``Health.audio_dropped_chunks``).  Ogg pages are cut every 200 ms and
each is flushed to the file as it is written (``page_duration``, ``flush_packets``),
so a file cut short by ``kill -9`` plays up to within a fraction of a second of the
last final, which the archive commits every quarter second.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.pcm import Samples
from ..config import SAMPLE_RATE
from ..health import Health

logger = logging.getLogger(__name__)

PAGE_DURATION_US = 200_000
"""Ogg page length: at 24 kbit/s a page of 200 ms is about 600 bytes."""

_STOP = None


class AudioRecorder:
    def __init__(
        self,
        path: Path,
        bit_rate: int = 24_000,
        queue_chunks: int = 600,
        health: Health | None = None,
    ) -> None:
        import av

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._health = health or Health()
        options = {"page_duration": str(PAGE_DURATION_US), "flush_packets": "1"}
        self._container: Any = av.open(str(path), "w", format="ogg", options=options)
        self._stream: Any = self._container.add_stream("libopus", rate=SAMPLE_RATE)
        self._stream.layout = "mono"
        self._stream.bit_rate = bit_rate
        self._written = 0
        self._failed = False
        self._queue: queue.Queue[Samples | None] = queue.Queue(queue_chunks)
        self._thread = threading.Thread(target=self._run, name="recorder")
        self._thread.start()

    def write(self, samples: Samples) -> None:
        """Hand a chunk to the recorder's thread; never waits."""
        if self._failed or len(samples) == 0:
            return
        try:
            self._queue.put_nowait(samples)
        except queue.Full:
            self._health.count("audio_dropped_chunks")

    def close(self) -> None:
        """Write what is queued and close the file (blocks: call it off the loop)."""
        self._queue.put(_STOP)
        self._thread.join()

    def wait_written(self) -> None:
        """Block until every chunk handed over so far is encoded and on disk."""
        self._queue.join()

    def _run(self) -> None:
        while (samples := self._queue.get()) is not None:
            self._encode(samples)
            self._queue.task_done()
        self._finish()
        self._queue.task_done()

    def _encode(self, samples: Samples) -> None:
        if self._failed:
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
            self._health.count("audio_dropped_chunks", error=f"session audio stopped: {exc}")
            logger.error("session audio %s stopped: %s", self.path, exc)

    def _finish(self) -> None:
        if not self._failed:
            try:
                for packet in self._stream.encode(None):
                    self._container.mux(packet)
            except Exception as exc:  # noqa: BLE001 - closing what can be closed
                logger.error("session audio %s: %s", self.path, exc)
        try:
            self._container.close()
        except Exception as exc:  # noqa: BLE001
            logger.error("session audio %s: %s", self.path, exc)

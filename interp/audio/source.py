"""Audio sources: every one yields 16 kHz mono float32 chunks stamped with session time.

A source is an async iterator of :class:`AudioChunk`.  Files are decoded with PyAV
(anything ffmpeg reads, audio or video), resampled to 16 kHz mono, and either
replayed at real pace or as fast as possible.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..config import SAMPLE_RATE
from ..errors import InputError
from .pcm import Samples, int16_to_float32


@dataclass(frozen=True, slots=True)
class AudioChunk:
    samples: Samples
    start: float
    """Session time of the first sample, in seconds."""


class AudioSource(Protocol):
    def chunks(self) -> AsyncIterator[AudioChunk]: ...


def _open(path: Path):  # type: ignore[no-untyped-def]
    import av

    if not path.exists():
        raise InputError(f"no such audio file: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a directory, not an audio file")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            f"cannot read audio from {path}: not a media file ffmpeg can decode"
        ) from exc
    if not container.streams.audio:
        container.close()
        raise InputError(f"{path} has no audio stream")
    return container


def iter_file_samples(path: Path, block_samples: int = 16_000) -> Iterator[Samples]:
    """Decode ``path`` progressively into 16 kHz mono float32 blocks.

    Raises:
        InputError: the file is missing, not decodable, or holds no audio.
    """
    import av

    container = _open(path)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    pending: list[Samples] = []
    pending_len = 0
    produced = 0
    try:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                pending.append(out.to_ndarray().reshape(-1).astype(np.float32))
                pending_len += out.samples
            while pending_len >= block_samples:
                data = np.concatenate(pending)
                yield data[:block_samples]
                produced += block_samples
                pending, pending_len = [data[block_samples:]], len(data) - block_samples
        for out in resampler.resample(None):
            pending.append(out.to_ndarray().reshape(-1).astype(np.float32))
            pending_len += out.samples
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot decode audio from {path}: {exc}") from exc
    finally:
        container.close()
    if pending_len:
        yield np.concatenate(pending)
    elif produced == 0:
        raise InputError(f"{path} contains no audio samples")


def decode_file(path: Path) -> Samples:
    """The whole file as one 16 kHz mono float32 array."""
    blocks = list(iter_file_samples(path))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


class FileSource:
    """Replays a file, at real pace (``speed`` 1.0), faster, or as fast as possible (0)."""

    def __init__(
        self, path: Path, chunk_ms: int = 100, speed: float = 1.0, loop: bool = False
    ) -> None:
        self.path = path
        self.speed = speed
        self.loop = loop
        self._chunk = chunk_ms * SAMPLE_RATE // 1000
        _open(path).close()  # fail now, with a clear message, not inside the pipeline

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent = 0
        while True:
            for block in iter_file_samples(self.path, self._chunk):
                yield AudioChunk(block, sent / SAMPLE_RATE)
                sent += len(block)
                if self.speed > 0:
                    due = started + sent / SAMPLE_RATE / self.speed
                    await asyncio.sleep(max(0.0, due - loop.time()))
                else:
                    await asyncio.sleep(0)
            if not self.loop:  # the demo plays its recording again and again
                return


class PushedAudioSource:
    """PCM pushed over ``/ws/audio``: s16le, 16 kHz, mono, in binary frames.

    The socket handler calls :meth:`push`, which never waits: if recognition falls
    far behind, the oldest audio is dropped and counted rather than blocking the
    sender.
    """

    def __init__(self, queue_chunks: int = 600) -> None:
        self._queue: asyncio.Queue[Samples | None] = asyncio.Queue(queue_chunks)
        self._sent = 0
        self.dropped_chunks = 0

    def push(self, pcm: bytes) -> None:
        if len(pcm) % 2:
            raise InputError("audio frames must hold whole 16-bit samples (s16le)")
        samples = int16_to_float32(pcm)
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped_chunks += 1
        self._queue.put_nowait(samples)

    def end(self) -> None:
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        while (samples := await self._queue.get()) is not None:
            yield AudioChunk(samples, self._sent / SAMPLE_RATE)
            self._sent += len(samples)

"""Audio sources: every one yields 16 kHz mono float32 chunks stamped with session time.

A source is an async iterator of :class:`AudioChunk`.  Files are decoded with PyAV
(anything ffmpeg reads, audio or video), resampled to 16 kHz mono, and either
replayed at real pace or as fast as possible.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..config import SAMPLE_RATE
from ..errors import InputError
from ..health import Health
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


class SampleQueue:
    """Blocks of audio between producers on the loop and one consumer, bounded in samples.

    :meth:`put` never waits: past ``max_samples`` the oldest blocks are dropped (the
    newest audio is what the room is hearing) and ``on_drop`` is told how many.  The
    end of the stream is a flag, not an item, so it is never dropped and never drops
    audio: :meth:`get` returns every block still held, then None.  Loop thread only.
    """

    def __init__(self, max_samples: int, on_drop: Callable[[int], None] | None = None) -> None:
        if max_samples <= 0:
            raise ValueError(f"a sample queue needs room for some audio, not {max_samples}")
        self.max_samples = max_samples
        self._blocks: deque[Samples] = deque()
        self._held = 0
        self._ended = False
        self._ready = asyncio.Event()
        self._on_drop = on_drop

    @property
    def held_samples(self) -> int:
        return self._held

    @property
    def ended(self) -> bool:
        return self._ended

    def put(self, samples: Samples) -> None:
        """Queue ``samples``; ignored once the queue has ended."""
        if self._ended:
            return
        self._blocks.append(samples)
        self._held += len(samples)
        dropped = 0
        # The block just queued is kept even alone past the bound: dropping it would
        # lose the newest audio for nothing.
        while self._held > self.max_samples and len(self._blocks) > 1:
            self._held -= len(self._blocks.popleft())
            dropped += 1
        if dropped and self._on_drop is not None:
            self._on_drop(dropped)
        self._ready.set()

    def end(self) -> None:
        """No more audio: :meth:`get` drains what is held, then returns None."""
        self._ended = True
        self._ready.set()

    async def get(self) -> Samples | None:
        """The oldest block held, waiting for one; None once ended and drained.

        Cancelling the wait (a timeout) loses nothing: blocks stay in the queue.
        """
        while not self._blocks:
            if self._ended:
                return None
            self._ready.clear()
            await self._ready.wait()
        samples = self._blocks.popleft()
        self._held -= len(samples)
        return samples


class PushedAudioSource:
    """PCM pushed over ``/ws/audio``: s16le, 16 kHz, mono, in binary frames.

    The socket handler calls :meth:`push`, which never waits: if recognition falls
    more than ``max_queue_s`` behind, the oldest audio is dropped and counted (into
    ``health.audio_dropped_chunks`` too when given) rather than blocking the sender.
    :meth:`end` ends the stream after everything already pushed.
    """

    def __init__(self, max_queue_s: float = 60.0, health: Health | None = None) -> None:
        self._queue = SampleQueue(max(1, round(max_queue_s * SAMPLE_RATE)), self._dropped)
        self._sent = 0
        self._health = health
        self.dropped_chunks = 0

    def _dropped(self, count: int) -> None:
        self.dropped_chunks += count
        if self._health is not None:
            self._health.count("audio_dropped_chunks", count)

    def push(self, pcm: bytes) -> None:
        if len(pcm) % 2:
            raise InputError("audio frames must hold whole 16-bit samples (s16le)")
        self._queue.put(int16_to_float32(pcm))

    def end(self) -> None:
        self._queue.end()

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        while (samples := await self._queue.get()) is not None:
            yield AudioChunk(samples, self._sent / SAMPLE_RATE)
            self._sent += len(samples)

"""Live capture from a microphone or mixer input through sounddevice (PortAudio).

The PortAudio callback runs on its own thread and must never block: it copies the
block and hands it to the event loop with ``call_soon_threadsafe``.  If the bounded
queue is full (the pipeline is stalled) the block is counted and dropped rather than
blocking capture.  A device that vanishes is reopened until ``device_retry_s`` runs
out, then a clear error ends the source.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from ..config import SAMPLE_RATE
from ..errors import InputError
from .source import AudioChunk

logger = logging.getLogger(__name__)


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio library itself is missing
        raise InputError(
            "audio capture needs the PortAudio library; install it with: "
            "sudo apt-get install libportaudio2"
        ) from exc
    except ImportError as exc:
        raise InputError(
            "audio capture needs sounddevice; run the README's set-up command (make setup)"
        ) from exc
    return sounddevice


def input_devices() -> list[tuple[int, str]]:
    """Index and name of every input device PortAudio knows."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise InputError(f"cannot list audio devices: {exc}") from exc
    return [(i, d["name"]) for i, d in enumerate(devices) if d["max_input_channels"] > 0]


def find_device(spec: str | None) -> int | None:
    """Resolve ``mic`` / ``mic:NAME`` / ``mic:INDEX`` to a device index (None: default)."""
    devices = input_devices()
    if not devices:
        raise InputError("no microphone or audio input device found")
    if not spec:
        sd = _sounddevice()
        default = sd.default.device[0]
        if default is None or default < 0:
            return devices[0][0]
        return int(default)
    if spec.isdigit():
        index = int(spec)
        if index in {i for i, _ in devices}:
            return index
    matches = [i for i, name in devices if spec.lower() in name.lower()]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(f"{i}: {name}" for i, name in devices)
    if matches:
        raise InputError(f"audio input {spec!r} is ambiguous; choose one of: {names}")
    raise InputError(f"no audio input matches {spec!r}; available: {names}")


class MicrophoneSource:
    """Captures 16 kHz mono float32 from an input device."""

    def __init__(
        self,
        device: str | None,
        chunk_ms: int = 100,
        queue_chunks: int = 600,
        retry_s: float = 30.0,
    ) -> None:
        self.device = find_device(device)
        self.dropped_chunks = 0
        self._blocksize = chunk_ms * SAMPLE_RATE // 1000
        self._queue_chunks = queue_chunks
        self._retry_s = retry_s

    def _open_stream(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[np.ndarray | None]
    ) -> Any:
        sd = _sounddevice()

        def deliver(block: np.ndarray | None) -> None:
            try:
                queue.put_nowait(block)
            except asyncio.QueueFull:
                self.dropped_chunks += 1

        def callback(indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
            loop.call_soon_threadsafe(deliver, indata[:, 0].copy())

        def finished() -> None:
            loop.call_soon_threadsafe(deliver, None)

        stream = sd.InputStream(
            device=self.device,
            channels=1,
            samplerate=SAMPLE_RATE,
            dtype="float32",
            blocksize=self._blocksize,
            callback=callback,
            finished_callback=finished,
        )
        stream.start()
        return stream

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[np.ndarray | None] = asyncio.Queue(self._queue_chunks)
        sd = _sounddevice()
        sent = 0
        while True:
            stream = await self._reopen(loop, queue, sd)
            try:
                while (block := await queue.get()) is not None:
                    yield AudioChunk(block, sent / SAMPLE_RATE)
                    sent += len(block)
            finally:
                stream.close()
            logger.warning("audio input %s stopped; trying to reopen it", self.device)

    async def _reopen(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[np.ndarray | None], sd: Any
    ) -> Any:
        deadline = loop.time() + self._retry_s
        while True:
            try:
                return self._open_stream(loop, queue)
            except sd.PortAudioError as exc:
                if loop.time() >= deadline:
                    raise InputError(f"audio input {self.device} is not available: {exc}") from exc
                await asyncio.sleep(1.0)

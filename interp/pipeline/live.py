"""The live loop: a source feeds the streaming core on its worker thread.

The source runs as its own task and fills a bounded queue, so capture never waits
for recognition.  Recognition takes everything that arrived while the previous pass
ran, in one feed: when the model is slower than speech it catches up in bigger steps
instead of falling further behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from ..asr.streaming import StreamingTranscriber
from ..audio.source import AudioChunk, AudioSource
from ..config import SAMPLE_RATE
from ..events import TextEvent
from .workers import ModelWorker

_END = None


async def run_live(
    source: AudioSource,
    transcriber: StreamingTranscriber,
    worker: ModelWorker,
    on_event: Callable[[TextEvent, float], None],
    queue_chunks: int = 600,
    on_audio: Callable[[AudioChunk], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> float:
    """Run until the source ends; return the seconds of audio received.

    ``on_event(event, emitted_at)`` is called on the loop for every event, where
    ``emitted_at`` is the session audio received when the event came out;
    ``on_audio(chunk)`` sees every chunk as it arrives, and ``on_progress(seconds)``
    the audio recognised so far after each pass.
    """
    queue: asyncio.Queue[AudioChunk | None] = asyncio.Queue(queue_chunks)
    received = 0

    async def capture() -> None:
        nonlocal received
        try:
            async for chunk in source.chunks():
                received += len(chunk.samples)
                if on_audio is not None:
                    on_audio(chunk)
                await queue.put(chunk)
        finally:
            await queue.put(_END)

    async def recognise() -> None:
        fed = 0
        finished = False
        while not finished:
            blocks = [await queue.get()]
            while not queue.empty():
                blocks.append(queue.get_nowait())
            finished = blocks[-1] is _END
            samples = [b.samples for b in blocks if b is not None]
            if samples:
                audio = np.concatenate(samples)
                events = await worker.run(transcriber.feed, audio)
                fed += len(audio)
                if on_progress is not None:
                    on_progress(fed / SAMPLE_RATE)
                for event in events:
                    on_event(event, received / SAMPLE_RATE)
        for event in await worker.run(transcriber.flush):
            on_event(event, received / SAMPLE_RATE)

    async with asyncio.TaskGroup() as group:
        group.create_task(capture())
        group.create_task(recognise())
    return received / SAMPLE_RATE

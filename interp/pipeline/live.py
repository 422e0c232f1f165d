"""The live loop: a source feeds the streaming core on its worker thread.

The source runs as its own task and fills a bounded queue, so capture never waits
for recognition.  Recognition takes everything that arrived while the previous pass
ran, in one feed: when the model is slower than speech it catches up in bigger steps
instead of falling further behind.

A stop ends the source, not recognition: what was captured is still recognised and
the open utterance is flushed into a final before :func:`run_live` returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..asr.streaming import StreamingTranscriber
from ..audio.source import AudioChunk, AudioSource
from ..config import SAMPLE_RATE
from ..events import CommittedSegment, TextEvent, Word
from .workers import ModelWorker

_END = None


def shifted(event: TextEvent, seconds: float, first_segment: int) -> TextEvent:
    """``event`` of a transcriber started ``seconds`` into the session.

    A pipeline restarted after a fault gets a fresh transcriber, which counts its time
    and its segments from zero; the session's clock and segment ids go on.
    """
    if seconds == 0 and first_segment == 0:
        return event
    if isinstance(event, CommittedSegment):
        words = tuple(
            Word(w.start + seconds, w.end + seconds, w.text, w.probability) for w in event.words
        )
        return replace(
            event,
            segment=event.segment + first_segment,
            start=event.start + seconds,
            end=event.end + seconds,
            emitted_at=event.emitted_at + seconds,
            words=words,
        )
    return replace(
        event,
        segment=event.segment + first_segment,
        start=event.start + seconds,
        end=event.end + seconds,
        emitted_at=event.emitted_at + seconds,
    )


async def run_live(
    source: AudioSource,
    transcriber: StreamingTranscriber,
    worker: ModelWorker,
    on_event: Callable[[TextEvent, float], None],
    queue_chunks: int = 600,
    on_audio: Callable[[AudioChunk], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
    stop: asyncio.Event | None = None,
) -> float:
    """Run until the source ends or ``stop`` is set; return the seconds of audio received.

    ``on_event(event, emitted_at)`` is called on the loop for every event, where
    ``emitted_at`` is the audio received (by this call) when the event came out;
    ``on_audio(chunk)`` sees every chunk as it arrives, and ``on_progress(seconds)``
    the audio recognised so far after each pass.  Once ``stop`` is set the source is
    ended, what it delivered is recognised, and the open utterance is flushed.
    """
    queue: asyncio.Queue[tuple[AudioChunk, float] | None] = asyncio.Queue(queue_chunks)
    received = 0

    async def capture() -> None:
        nonlocal received
        try:
            async for chunk in source.chunks():
                received += len(chunk.samples)
                if on_audio is not None:
                    on_audio(chunk)
                await queue.put((chunk, time.monotonic()))
        finally:
            # Also when a stop cancelled this task: recognition then sees the end.
            await queue.put(_END)

    async def recognise() -> None:
        fed = 0
        finished = False
        while not finished:
            blocks = [await queue.get()]
            while not queue.empty():
                blocks.append(queue.get_nowait())
            finished = blocks[-1] is _END
            samples = [b[0].samples for b in blocks if b is not None]
            if samples:
                audio = np.concatenate(samples)
                first = blocks[0]
                # How long the oldest audio waited: the passes hurry when it is long.
                lag = time.monotonic() - first[1] if first is not None else 0.0
                events = await worker.run(transcriber.feed, audio, lag)
                fed += len(audio)
                if on_progress is not None:
                    on_progress(fed / SAMPLE_RATE)
                for event in events:
                    on_event(event, received / SAMPLE_RATE)
        for event in await worker.run(transcriber.flush):
            on_event(event, received / SAMPLE_RATE)

    async def end_source_on_stop(capturing: asyncio.Task[None]) -> None:
        assert stop is not None
        await stop.wait()
        capturing.cancel()

    async with asyncio.TaskGroup() as group:
        capturing = group.create_task(capture(), name="capture")
        recognising = group.create_task(recognise(), name="recognise")
        if stop is not None:
            watcher = group.create_task(end_source_on_stop(capturing), name="stop-watch")
            recognising.add_done_callback(lambda _: watcher.cancel())
    return received / SAMPLE_RATE

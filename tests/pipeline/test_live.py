"""The live loop tells the streaming core how long its audio waited."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import numpy as np

from interp.audio.source import AudioChunk
from interp.events import TextEvent
from interp.pipeline.live import run_live
from interp.pipeline.workers import ModelWorker

CHUNK = 1_600


class ChunksAtOnce:
    """A source that delivers one chunk, then (once ``go_on`` is set) all the rest at once."""

    def __init__(self, count: int, go_on: threading.Event) -> None:
        self.count = count
        self.go_on = go_on

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        for index in range(self.count):
            yield AudioChunk(np.zeros(CHUNK, dtype=np.float32), index * CHUNK / 16_000)
            if index == 0:
                await asyncio.to_thread(self.go_on.wait, 10)


class SlowFirstFeed:
    """A core whose first feed blocks until released: audio queues up meanwhile."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.fed: list[int] = []
        self.busy = threading.Event()
        self.release = threading.Event()

    def feed(self, audio: np.ndarray, lag_s: float = 0.0) -> list[TextEvent]:
        self.lags.append(lag_s)
        self.fed.append(len(audio))
        if len(self.fed) == 1:
            self.busy.set()
            self.release.wait(10)
        return []

    def flush(self) -> list[TextEvent]:
        return []


def test_audio_that_waited_for_a_slow_pass_is_fed_with_its_wait() -> None:
    async def main() -> SlowFirstFeed:
        core = SlowFirstFeed()
        worker = ModelWorker("test")
        loop = asyncio.get_running_loop()

        def release_later() -> None:
            core.busy.wait(10)
            threading.Event().wait(0.3)  # the pass takes at least 0.3 s
            core.release.set()

        releaser = loop.run_in_executor(None, release_later)
        await run_live(ChunksAtOnce(20, core.busy), core, worker, lambda e, t: None)  # type: ignore[arg-type]
        await releaser
        worker.close()
        return core

    core = asyncio.run(main())
    assert sum(core.fed) == 20 * CHUNK
    assert core.lags[0] < 0.3  # taken as soon as it came
    # The audio that came during the slow pass waited for all of it.
    assert len(core.lags) >= 2 and core.lags[1] >= 0.3

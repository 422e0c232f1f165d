"""Replays audio through the streaming core on a simulated real-time clock.

Audio arrives in ``chunk_ms`` chunks at the pace it was recorded; the core's
computation takes the time it really takes, and audio that arrived meanwhile waits,
exactly as it would live.  So ``emitted_at`` (the session audio that had arrived when
the event came out) is computation-aware, but the run takes only as long as the
computation: this is how latency is measured without waiting in real time.

Measured time depends on the machine and its load, and so, through where the passes
fall, do the words.  :class:`PassCostClock` and :class:`WorkClock` instead charge a
fixed cost per unit of work, for runs that are the same on every machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Protocol

from ..audio.pcm import Samples
from ..config import SAMPLE_RATE
from ..events import TextEvent


class StreamingCore(Protocol):
    def feed(self, audio: Samples, lag_s: float = 0.0) -> list[TextEvent]: ...
    def flush(self) -> list[TextEvent]: ...


class CountsPasses(Protocol):
    @property
    def passes(self) -> int:
        """Recognition passes run so far."""
        ...


class PassCostClock:
    """Simulated time that moves only with recognition: ``pass_cost_s`` per pass.

    Read around each feed by :func:`simulate_realtime`, so a feed that ran two passes
    took twice the cost, however long the passes really took.
    """

    def __init__(self, core: CountsPasses, pass_cost_s: float) -> None:
        if pass_cost_s < 0:
            raise ValueError(f"a pass cannot cost {pass_cost_s} s")
        self._core = core
        self._cost = pass_cost_s

    def __call__(self) -> float:
        return self._core.passes * self._cost


class WorkClock:
    """Simulated time that advances ``cost_s`` at each reading.

    For a stage that reads its clock once when it starts and once per batch done
    (:class:`interp.translation.stage.SimulatedTranslation`): each batch costs
    ``cost_s``.
    """

    def __init__(self, cost_s: float) -> None:
        if cost_s < 0:
            raise ValueError(f"a batch cannot cost {cost_s} s")
        self._cost = cost_s
        self._now = 0.0

    def __call__(self) -> float:
        self._now += self._cost
        return self._now


def simulate_realtime(
    transcriber: StreamingCore,
    audio: Samples,
    chunk_ms: int = 100,
    clock: Callable[[], float] = time.perf_counter,
    on_feed: Callable[[float, float], None] | None = None,
) -> Iterator[tuple[TextEvent, float]]:
    """Yield ``(event, emitted_at)`` pairs as a live run would produce them.

    ``on_feed(audio_s, now_s)`` is called after each feed with the seconds of audio
    consumed and the simulated time, whose difference is the lag behind real time.
    ``clock`` measures each feed's cost; a :class:`PassCostClock` fixes it instead.
    """
    chunk = chunk_ms * SAMPLE_RATE // 1000
    total = len(audio)
    now = 0.0  # seconds of session time elapsed since the stream began
    fed = 0
    while fed < total:
        arrived = min(total, int(now * SAMPLE_RATE + 1e-6) // chunk * chunk)
        if arrived <= fed:  # idle until the next chunk lands
            arrived = min(total, fed + chunk)
            now = max(now, arrived / SAMPLE_RATE)
        began = clock()
        # How long the oldest chunk fed has waited since it arrived (at its end).
        waited = max(0.0, now - min(total, fed + chunk) / SAMPLE_RATE)
        events = transcriber.feed(audio[fed:arrived], lag_s=waited)
        fed = arrived
        now += clock() - began
        if on_feed is not None:
            on_feed(fed / SAMPLE_RATE, now)
        for event in events:
            yield event, round(now, 3)
    began = clock()
    events = transcriber.flush()
    now += clock() - began
    for event in events:
        yield event, round(now, 3)

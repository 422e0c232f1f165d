"""The simulated real-time clock: every sample is fed once, and time only moves on."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.events import CommittedSegment, TextEvent
from interp.pipeline.simulate import simulate_realtime


class RecordingCore:
    """Echoes one final per feed, and records what it was fed."""

    def __init__(self) -> None:
        self.fed: list[int] = []

    def feed(self, audio: np.ndarray) -> list[TextEvent]:
        self.fed.append(len(audio))
        end = sum(self.fed) / 16_000
        return [CommittedSegment(len(self.fed), "en", "x", end, end, end)]

    def flush(self) -> list[TextEvent]:
        return []


class TickingClock:
    """Each reading advances by ``step`` seconds: a core whose feed costs ``step``."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step / 2
        return self.now


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=80_000),
    chunk_ms=st.sampled_from([20, 100, 250]),
    cost=st.floats(min_value=0.0, max_value=2.0),
)
def test_feeds_every_sample_once_and_never_emits_before_arrival(
    total: int, chunk_ms: int, cost: float
) -> None:
    core = RecordingCore()
    audio = np.zeros(total, dtype=np.float32)
    emitted = list(simulate_realtime(core, audio, chunk_ms, clock=TickingClock(cost)))
    assert sum(core.fed) == total
    times = [at for _, at in emitted]
    assert times == sorted(times)
    for event, at in emitted:
        assert at >= event.end - 1e-3  # nothing comes out before its audio arrived


def test_slow_core_catches_up_in_bigger_feeds() -> None:
    core = RecordingCore()
    audio = np.zeros(16_000 * 10, dtype=np.float32)
    list(simulate_realtime(core, audio, 100, clock=TickingClock(0.5)))  # 0.25 s a feed
    assert min(core.fed[1:-1]) >= 16_000 * 0.2  # the audio that arrived meanwhile
    assert len(core.fed) < 50

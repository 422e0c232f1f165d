"""The simulated real-time clock: every sample is fed once, time only moves on, and a
fixed pass cost makes a run the same however fast the machine."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.events import CommittedSegment, TextEvent
from interp.pipeline.simulate import PassCostClock, WorkClock, simulate_realtime


class RecordingCore:
    """Echoes one final per feed, and records what it was fed."""

    def __init__(self) -> None:
        self.fed: list[int] = []
        self.lags: list[float] = []

    def feed(self, audio: np.ndarray, lag_s: float = 0.0) -> list[TextEvent]:
        self.fed.append(len(audio))
        self.lags.append(lag_s)
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
    # The oldest chunk of each feed waited for it about one feed's cost (0.25 s),
    # less up to one chunk (it arrived during the feed before).
    assert core.lags[0] == 0.0
    assert all(0.1 <= lag <= 0.3 for lag in core.lags[1:-1])


def test_a_fast_core_is_told_it_does_not_lag() -> None:
    core = RecordingCore()
    list(simulate_realtime(core, np.zeros(16_000 * 3, dtype=np.float32), 100,
                           clock=TickingClock(0.0)))  # fmt: skip
    assert max(core.lags) < 1e-6


class PassingCore:
    """Runs one recognition pass on every feed that brings ``every`` samples or more,
    taking real time over it; emits one final per pass."""

    def __init__(self, every: int, busy_s: float = 0.0) -> None:
        self.passes = 0
        self.fed: list[int] = []
        self._every = every
        self._busy_s = busy_s
        self._waiting = 0

    def feed(self, audio: np.ndarray, lag_s: float = 0.0) -> list[TextEvent]:
        import time

        self.fed.append(len(audio))
        self._waiting += len(audio)
        if self._waiting < self._every:
            return []
        self._waiting = 0
        self.passes += 1
        time.sleep(self._busy_s)
        end = sum(self.fed) / 16_000
        return [CommittedSegment(self.passes, "en", "x", end, end, end)]

    def flush(self) -> list[TextEvent]:
        return []


def run_on_pass_cost(busy_s: float, cost: float) -> tuple[list[int], list[float]]:
    core = PassingCore(every=8_000, busy_s=busy_s)
    audio = np.zeros(16_000 * 3, dtype=np.float32)
    emitted = list(simulate_realtime(core, audio, 100, clock=PassCostClock(core, cost)))
    return core.fed, [at for _, at in emitted]


def test_a_fixed_pass_cost_makes_the_run_independent_of_real_time() -> None:
    quick = run_on_pass_cost(busy_s=0.0, cost=0.3)
    slow = run_on_pass_cost(busy_s=0.02, cost=0.3)
    assert quick == slow


def test_each_pass_costs_the_fixed_time_and_the_audio_waits_meanwhile() -> None:
    fed, times = run_on_pass_cost(busy_s=0.0, cost=0.3)
    # The first pass runs when 0.5 s has arrived; its final is out 0.3 s later, by
    # when three more chunks have landed and are fed at once.
    assert times[0] == 0.5 + 0.3
    assert fed[:6] == [1_600] * 5 + [4_800]
    # Feeds without a pass cost nothing: the clock waits on the audio.
    assert all(b - a >= 0.3 - 1e-9 for a, b in itertools.pairwise(times))


def test_a_negative_cost_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot cost"):
        PassCostClock(PassingCore(1), -0.1)
    with pytest.raises(ValueError, match="cannot cost"):
        WorkClock(-1.0)


def test_a_work_clock_advances_its_cost_at_each_reading() -> None:
    clock = WorkClock(0.25)
    began = clock()
    assert [clock() - began for _ in range(3)] == [0.25, 0.5, 0.75]

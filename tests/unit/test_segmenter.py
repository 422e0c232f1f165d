"""VadSegmenter: hysteresis over window probabilities."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from interp.config import VadSettings
from interp.vad.segmenter import Boundary, VadSegmenter

SETTINGS = VadSettings()
MIN_SILENCE_WINDOWS = 19  # 600 ms of 32 ms windows

probabilities = st.lists(
    st.one_of(
        st.sampled_from([0.0, 0.05, 0.35, 0.349, 0.4, 0.5, 0.499, 0.9, 1.0]),
        st.floats(0.0, 1.0),
    ),
    max_size=400,
)
# Long runs of one value, as real speech and pauses come.
runs = st.lists(st.tuples(st.sampled_from([0.05, 0.4, 0.9]), st.integers(1, 40)), max_size=30).map(
    lambda pairs: [p for p, n in pairs for _ in range(n)]
)


def feed_all(segmenter: VadSegmenter, probs: list[float]) -> list[tuple[int, Boundary]]:
    """(index of the window that produced it, boundary) for each boundary."""
    found = []
    for index, p in enumerate(probs):
        boundary = segmenter.feed(p)
        if boundary is not None:
            found.append((index, boundary))
    return found


@settings(max_examples=300, deadline=None)
@given(st.one_of(probabilities, runs))
def test_boundaries_alternate_and_windows_increase(probs: list[float]) -> None:
    found = feed_all(VadSegmenter(SETTINGS), probs)
    boundaries = [b for _, b in found]
    assert [b.started for b in boundaries] == [i % 2 == 0 for i in range(len(boundaries))]
    windows = [b.window for b in boundaries]
    assert windows == sorted(set(windows))  # strictly increasing
    assert all(0 <= w < len(probs) for w in windows)


@settings(max_examples=300, deadline=None)
@given(st.one_of(probabilities, runs))
def test_boundaries_follow_the_hysteresis_rules(probs: list[float]) -> None:
    segmenter = VadSegmenter(SETTINGS)
    found = feed_all(segmenter, probs)
    in_speech, speech_since = False, 0
    previous_end = -1
    for index, boundary in found:
        if boundary.started:
            # speech starts at the first window at or above the threshold
            assert boundary.window == index
            assert probs[index] >= SETTINGS.threshold
            assert all(p < SETTINGS.threshold for p in probs[previous_end + 1 : index])
            in_speech, speech_since = True, index
        else:
            end = boundary.window
            assert end > speech_since
            assert probs[end] < SETTINGS.neg_threshold
            # detected once the silence has lasted min_silence_ms, never above threshold
            assert index == end + MIN_SILENCE_WINDOWS - 1
            assert all(p < SETTINGS.threshold for p in probs[end : index + 1])
            in_speech, previous_end = False, index
    assert segmenter.in_speech is in_speech
    if not in_speech:
        assert all(p < SETTINGS.threshold for p in probs[previous_end + 1 :])


@settings(max_examples=200, deadline=None)
@given(st.one_of(probabilities, runs), st.one_of(probabilities, runs))
def test_same_probabilities_give_same_boundaries(first: list[float], probs: list[float]) -> None:
    fresh = feed_all(VadSegmenter(SETTINGS), probs)
    assert feed_all(VadSegmenter(SETTINGS), probs) == fresh
    reused = VadSegmenter(SETTINGS)
    feed_all(reused, first)
    reused.reset()
    assert feed_all(reused, probs) == fresh


def test_a_short_dip_does_not_end_speech() -> None:
    segmenter = VadSegmenter(SETTINGS)
    probs = [0.9] * 10 + [0.1] * (MIN_SILENCE_WINDOWS - 1) + [0.9] * 5 + [0.1] * 30
    found = feed_all(segmenter, probs)
    assert [b for _, b in found] == [
        Boundary(started=True, window=0),
        Boundary(started=False, window=10 + MIN_SILENCE_WINDOWS - 1 + 5),
    ]


def test_probabilities_between_the_thresholds_neither_start_nor_end_speech() -> None:
    segmenter = VadSegmenter(SETTINGS)
    between = (SETTINGS.threshold + SETTINGS.neg_threshold) / 2
    assert feed_all(segmenter, [between] * 100) == []
    assert segmenter.feed(0.9) == Boundary(started=True, window=100)
    assert feed_all(segmenter, [between] * 100) == []
    assert segmenter.in_speech


def test_min_silence_is_counted_in_windows() -> None:
    segmenter = VadSegmenter(replace(SETTINGS, min_silence_ms=100))  # round(100/32) = 3
    found = feed_all(segmenter, [0.9, 0.1, 0.1, 0.1, 0.1])
    assert found == [
        (0, Boundary(started=True, window=0)),
        (3, Boundary(started=False, window=1)),
    ]
    tiny = VadSegmenter(replace(SETTINGS, min_silence_ms=0))  # at least one window
    assert feed_all(tiny, [0.9, 0.1]) == [
        (0, Boundary(started=True, window=0)),
        (1, Boundary(started=False, window=1)),
    ]

"""The fakes themselves: markers decode back, speech is where the sound is."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import (
    FILLER_LEVEL,
    FakeRecognizer,
    FakeSpeechProb,
    ScriptBuilder,
    decode_markers,
    sentence_text,
    word_level,
)


def test_script_layout() -> None:
    script = (
        ScriptBuilder()
        .silence(100)
        .sentence("Hello there.", word_ms=10, gap_ms=5, pause_ms=20)
        .filler(50)
        .word(" again", 30)
        .build()
    )
    assert [(w.index, w.text, w.start, w.end) for w in script.words] == [
        (0, " Hello", 100, 260),
        (1, " there.", 340, 500),
        (2, " again", 870, 900),
    ]
    assert len(script.audio) == 900 and script.duration == 900 / 16_000
    assert [sentence_text(s) for s in script.sentences()] == ["Hello there.", "again"]
    assert np.all(script.audio[:100] == 0)
    assert np.allclose(np.abs(script.audio[100:260]), word_level(0))
    assert np.allclose(np.abs(script.audio[820:870]), FILLER_LEVEL)
    codes = decode_markers(script.audio)
    assert set(codes[:100].tolist()) == {-1} and set(codes[820:870].tolist()) == {-1}
    assert set(codes[340:500].tolist()) == {1}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 999), min_size=1, max_size=50))
def test_every_marker_decodes_back(indices: list[int]) -> None:
    audio = np.array([word_level(i) * (-1) ** n for n, i in enumerate(indices)], np.float32)
    assert decode_markers(audio).tolist() == indices


def test_word_level_range() -> None:
    with pytest.raises(ValueError):
        word_level(1000)
    with pytest.raises(ValueError):
        word_level(-1)


def test_speech_prob_depends_on_each_window_only() -> None:
    model = FakeSpeechProb()
    windows = np.zeros((4, 512), np.float32)
    windows[1, :] = FILLER_LEVEL
    windows[2, 100] = 0.5  # one loud sample is enough
    windows[3, :] = 0.001  # faint hum is not speech
    probs = model.probabilities(windows)
    assert probs.dtype == np.float32 and probs.shape == (4,)
    assert probs.tolist() == pytest.approx([0.05, 0.9, 0.9, 0.05])
    assert model.probabilities(np.zeros((0, 512), np.float32)).shape == (0,)
    assert model.windows_scored == 4


def test_recognizer_returns_whole_words_relative_to_the_buffer() -> None:
    script = (
        ScriptBuilder().silence(1000).word(" one", 1600).silence(160).word(" two.", 3200).build()
    )
    recognizer = FakeRecognizer.for_script(script)
    full = recognizer.transcribe(script.audio, language=None, prompt="ctx")
    assert full.language == "en"
    assert [(w.text, w.start, w.end) for w in full.words] == [
        (" one", 1000 / 16_000, 2600 / 16_000),
        (" two.", 2760 / 16_000, 5960 / 16_000),
    ]
    # a buffer starting later: times shift, a cut word is left out
    later = recognizer.transcribe(script.audio[2000:], language="fr", prompt="")
    assert later.language == "fr"
    assert [(w.text, w.start) for w in later.words] == [(" two.", 760 / 16_000)]
    cut_end = recognizer.transcribe(script.audio[:5000], language=None, prompt="")
    assert [w.text for w in cut_end.words] == [" one"]
    assert recognizer.transcribe(np.zeros(0, np.float32), language=None, prompt="").words == ()
    assert [(c.samples, c.language, c.prompt) for c in recognizer.calls] == [
        (5960, None, "ctx"),
        (3960, "fr", ""),
        (5000, None, ""),
        (0, None, ""),
    ]


def test_recognizer_trailing_period_imitates_whisper() -> None:
    script = ScriptBuilder().word(" one", 1600).word(" two", 1600).silence(8000).build()
    recognizer = FakeRecognizer.for_script(script, trailing_period=True, period_tail_s=0.3)
    at_end = recognizer.transcribe(script.audio[: 3200 + 4000], language=None, prompt="")
    assert [w.text for w in at_end.words] == [" one", " two."]
    long_after = recognizer.transcribe(script.audio, language=None, prompt="")
    assert [w.text for w in long_after.words] == [" one", " two"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.booleans(), max_size=60), st.integers(1, 4), st.integers(1, 10))
def test_late_speech_prob_keeps_its_state_across_calls(
    loud: list[bool], onset_windows: int, split: int
) -> None:
    windows = np.zeros((len(loud), 512), np.float32)
    windows[np.array(loud, dtype=bool)] = FILLER_LEVEL
    whole = FakeSpeechProb(onset_windows).probabilities(windows)
    model = FakeSpeechProb(onset_windows)
    parts = [model.probabilities(windows[i : i + split]) for i in range(0, len(loud), split)]
    assert np.concatenate([whole[:0], *parts]).tolist() == whole.tolist()
    run = 0
    for is_loud, prob in zip(loud, whole.tolist(), strict=True):
        run = run + 1 if is_loud else 0
        assert (prob > 0.5) == (run >= onset_windows)
    model.reset()
    assert model.probabilities(windows).tolist() == whole.tolist()

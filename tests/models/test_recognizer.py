"""The streaming recogniser's pass over the real model: one encoder run, settled language."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from interp import config
from interp.asr.faster_whisper import FasterWhisperRecognizer
from interp.audio.source import decode_file
from interp.evaluation import word_error_rate

from .conftest import DATA
from .portable import heard_fraction

pytestmark = pytest.mark.model


class CountingEncoder:
    """Wraps CTranslate2's Whisper model and records the frames of every encoder run."""

    def __init__(self, whisper: Any) -> None:
        self._whisper = whisper
        self.encoded_frames: list[int] = []

    def encode(self, features: Any, *args: Any, **kwargs: Any) -> Any:
        self.encoded_frames.append(int(features.shape[-1]))
        return self._whisper.encode(features, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._whisper, name)


@pytest.fixture
def counting(speech_model: Any, monkeypatch: pytest.MonkeyPatch) -> CountingEncoder:
    counter = CountingEncoder(speech_model.model)
    monkeypatch.setattr(speech_model, "model", counter)
    return counter


def german_buffer() -> Any:
    return decode_file(DATA / "fleurs-de-005.ogg")[: 6 * 16_000]


GERMAN_HEARD = " ".join((DATA / "fleurs-de-005.txt").read_text().split()[:10])
"""The words spoken in the first 6 s: "dieses sediment war nötig um sandbänke und
strände zu bilden"."""


def text_of(hypothesis: Any) -> str:
    return " ".join(w.text for w in hypothesis.words)


def test_a_detecting_pass_runs_the_encoder_once_and_decodes_the_chosen_language(
    settings: config.Settings, speech_model: Any, counting: CountingEncoder
) -> None:
    asr = dataclasses.replace(settings.asr, encoder_margin_s=0.0)
    recognizer = FasterWhisperRecognizer(speech_model, asr)
    asked: list[tuple[str, float]] = []

    def choose(detected: str, probability: float) -> str:
        asked.append((detected, probability))
        return detected

    detected = recognizer.transcribe(
        german_buffer(), language=None, prompt="", choose_language=choose
    )
    assert counting.encoded_frames == [3000], "detection reuses the decoding pass's encoder output"
    # 6 s of clear German: detected with probability 0.996/0.994/0.995 under
    # GENERIC/AVX/AVX2.
    assert len(asked) == 1 and asked[0][0] == "de" and 0.5 < asked[0][1] <= 1.0
    assert (detected.language, detected.language_probability) == asked[0]
    # The words are the German decode: they hold 0.7/0.7/0.7 of the words spoken under
    # GENERIC/AVX/AVX2 (a French decode of the same audio holds none).
    assert heard_fraction(GERMAN_HEARD, text_of(detected)) >= 0.5, text_of(detected)

    forced = recognizer.transcribe(german_buffer(), language="de", prompt="")
    assert forced.language == "de" and forced.language_probability == 1.0


def test_the_chosen_language_overrides_the_detection(
    settings: config.Settings, speech_model: Any
) -> None:
    recognizer = FasterWhisperRecognizer(speech_model, settings.asr)
    hypothesis = recognizer.transcribe(
        german_buffer(), language=None, prompt="", choose_language=lambda _lang, _p: "fr"
    )
    as_french = recognizer.transcribe(german_buffer(), language="fr", prompt="")
    as_german = recognizer.transcribe(german_buffer(), language="de", prompt="")
    assert hypothesis.language == "de", "the detection is still reported"
    # Decoded as French, not German: as near the forced French decode as can be (WER
    # 0.00/0.00/0.00 under GENERIC/AVX/AVX2, though AVX's French decode differs from
    # the others'), and far from the German one (1.00/1.00/1.00).
    to_french = word_error_rate(text_of(as_french), text_of(hypothesis))
    to_german = word_error_rate(text_of(as_german), text_of(hypothesis))
    assert to_french <= 0.3 and to_german >= 0.6, (text_of(hypothesis), to_french, to_german)


def test_the_encoder_sees_the_buffer_and_its_margin_not_thirty_seconds(
    settings: config.Settings, speech_model: Any, counting: CountingEncoder
) -> None:
    audio = german_buffer()
    asr = dataclasses.replace(settings.asr, encoder_margin_s=3.0)
    short = FasterWhisperRecognizer(speech_model, asr).transcribe(audio, language="de", prompt="")
    # 6 s of audio and 3 s of margin, rounded up to 12 s, at 100 frames a second.
    assert counting.encoded_frames == [1200]
    assert all(0 <= w.start <= w.end <= 6.1 for w in short.words)
    # The 6 s cut ends mid-sentence; the words heard before it are recognised: the
    # decode holds 0.7/0.7/0.7 of them under GENERIC/AVX/AVX2.
    assert heard_fraction(GERMAN_HEARD, text_of(short)) >= 0.5, text_of(short)


def test_full_window_keeps_thirty_seconds_whatever_the_margin(
    settings: config.Settings, speech_model: Any, counting: CountingEncoder
) -> None:
    asr = dataclasses.replace(settings.asr, encoder_margin_s=3.0)
    FasterWhisperRecognizer(speech_model, asr).transcribe(
        german_buffer(), language="de", prompt="", full_window=True
    )
    assert counting.encoded_frames == [3000]


def test_fast_speech_is_not_cut_short_by_the_token_cap(
    settings: config.Settings, speech_model: Any
) -> None:
    """28 French words in 7.9 s: about 12 tokens a second, all of them decoded."""
    audio = decode_file(DATA / "fleurs-fr-002.ogg")
    hypothesis = FasterWhisperRecognizer(speech_model, settings.asr).transcribe(
        audio, language="fr", prompt=""
    )
    text = text_of(hypothesis)
    # A decode cut short by the cap stops words before the sentence's end: here the
    # words run on to the sentence's end, at 7.56/7.56/7.56 s of the 8.28 s clip
    # under GENERIC/AVX/AVX2.
    assert hypothesis.words and hypothesis.words[-1].end >= 7.0, text
    assert len(hypothesis.words) >= 22, text  # 26 in the reference; 31/31/31 decoded
    reference = (DATA / "fleurs-fr-002.txt").read_text()
    assert word_error_rate(reference, text) <= 0.5  # 0.35/0.35/0.35


class LoopingDecoder:
    """Wraps CTranslate2's Whisper model: the first decode is kept and replayed.

    Once ``loop`` is set, the replayed decode ends in that runaway loop, so the plain
    and the looped pass hold the very same tokens before it.
    """

    def __init__(self, whisper: Any) -> None:
        self._whisper = whisper
        self._first: Any = None
        self.loop: list[int] = []

    def generate(self, *args: Any, **kwargs: Any) -> Any:
        if self._first is None:
            self._first = self._whisper.generate(*args, **kwargs)
        return [
            SimpleNamespace(
                sequences_ids=[r.sequences_ids[0] + self.loop * 30],
                scores=r.scores,
                no_speech_prob=r.no_speech_prob,
            )
            for r in self._first
        ]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._whisper, name)


def test_a_decode_that_ends_in_a_loop_keeps_the_words_before_it(
    settings: config.Settings, speech_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whisper base on a CPU often loops after sound text ("how acidic ____…")."""
    recognizer = FasterWhisperRecognizer(speech_model, settings.asr)
    decoder = LoopingDecoder(speech_model.model)
    monkeypatch.setattr(speech_model, "model", decoder)
    plain = recognizer.transcribe(german_buffer(), language="de", prompt="")
    assert len(plain.words) >= 5
    decoder.loop = speech_model.hf_tokenizer.encode(" ____").ids
    looped = recognizer.transcribe(german_buffer(), language="de", prompt="")
    assert [w.text for w in looped.words] == [w.text for w in plain.words]


def test_a_live_pass_waits_for_one_piece_of_a_record_pass_not_for_all_of_it(
    settings: config.Settings, speech_model: Any
) -> None:
    """A record decode runs in pieces (the encoder, the decode, the alignment); a live
    pass coming in meanwhile takes the model at the end of the piece under way, and
    the record goes on after it."""
    import threading

    import numpy as np

    from interp.asr.faster_whisper import record_words
    from interp.asr.gate import gate_of

    names = ["fleurs-de-005.ogg", "fleurs-fr-005.ogg", "fleurs-es-002.ogg"]
    utterance = np.concatenate([decode_file(DATA / name) for name in names])[: 25 * 16_000]
    gate = gate_of(speech_model)
    before = gate.background_pieces
    recorded: list[Any] = []
    worker = threading.Thread(
        target=lambda: recorded.append(
            record_words(speech_model, utterance, "de", "", 25.0, settings.asr)
        )
    )
    worker.start()
    try:
        while gate.background_pieces == before and worker.is_alive():
            threading.Event().wait(0.002)
        live = FasterWhisperRecognizer(speech_model, settings.asr)
        hypothesis = live.transcribe(german_buffer(), language="de", prompt="")
        pieces_by_then = gate.background_pieces - before
        record_still_running = worker.is_alive()
    finally:
        worker.join()
    assert hypothesis.words
    # It took the model after the first piece or the second, never after them all.
    assert record_still_running and pieces_by_then <= 2
    assert gate.background_pieces - before >= 3 and recorded and recorded[0]

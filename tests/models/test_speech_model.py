"""The real Whisper base model on real speech, streaming and offline."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from interp import config
from interp.asr.faster_whisper import transcribe_offline
from interp.audio.source import decode_file
from interp.evaluation import word_error_rate
from interp.events import CommittedSegment, PartialText
from interp.pipeline.simulate import simulate_realtime
from interp.pipeline.speech import new_transcriber

from . import signals
from .conftest import DATA

pytestmark = pytest.mark.model


def stream(settings: config.Settings, model: Any, audio: np.ndarray) -> list[Any]:
    return [event for event, _ in simulate_realtime(new_transcriber(settings, model), audio)]


def finals_text(events: list[Any]) -> str:
    return " ".join(e.text for e in events if isinstance(e, CommittedSegment))


CLIPS = [
    ("jfk.flac", "en", 0.10),
    ("fleurs-fr-005.ogg", "fr", 0.35),
    ("fleurs-es-002.ogg", "es", 0.25),
    ("fleurs-de-005.ogg", "de", 0.35),
]


@pytest.mark.parametrize(("name", "lang", "max_wer"), CLIPS)
def test_streaming_recognises_real_speech(
    settings: config.Settings, speech_model: Any, name: str, lang: str, max_wer: float
) -> None:
    audio = decode_file(DATA / name)
    events = stream(settings, speech_model, audio)
    reference = (DATA / name).with_suffix(".txt").read_text()
    assert word_error_rate(reference, finals_text(events)) <= max_wer
    finals = [e for e in events if isinstance(e, CommittedSegment)]
    assert {f.lang for f in finals} == {lang}, "language detected per utterance"
    duration = len(audio) / 16_000
    for final in finals:
        assert 0 <= final.start <= final.end <= duration + 0.1
    assert [f.segment for f in finals] == sorted({f.segment for f in finals})
    assert any(isinstance(e, PartialText) for e in events), "partials before finals"


@pytest.mark.parametrize(("name", "lang", "max_wer"), CLIPS)
def test_offline_recognises_real_speech(
    settings: config.Settings, speech_model: Any, name: str, lang: str, max_wer: float
) -> None:
    audio = decode_file(DATA / name)
    segments = list(transcribe_offline(speech_model, audio, settings.asr))
    reference = (DATA / name).with_suffix(".txt").read_text()
    assert word_error_rate(reference, " ".join(s.text for s in segments)) <= max_wer
    assert {s.lang for s in segments} == {lang}


def test_fixed_language_and_translate_task(settings: config.Settings, speech_model: Any) -> None:
    audio = decode_file(DATA / "fleurs-es-002.ogg")
    asr = dataclasses.replace(settings.asr, language="es", task="translate")
    translated = stream(dataclasses.replace(settings, asr=asr), speech_model, audio)
    text = finals_text(translated).lower()
    assert {e.lang for e in translated} == {"en"}
    assert "people" in text and "san pedro" in text


NON_SPEECH = {
    "silence": signals.silence,
    "pink noise": signals.pink_noise,
    "pure tone": signals.tone,
    "applause": signals.applause,
    "music": signals.music,
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(NON_SPEECH))
def test_no_text_on_sixty_seconds_of_non_speech(
    settings: config.Settings, speech_model: Any, kind: str
) -> None:
    events = stream(settings, speech_model, NON_SPEECH[kind](60.0))
    assert finals_text(events) == ""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["applause", "pure tone"])
def test_no_text_invented_after_a_speech(
    settings: config.Settings, speech_model: Any, kind: str
) -> None:
    """Applause after a speech: the committed context must not be repeated into it."""
    speech = decode_file(DATA / "jfk.flac")
    audio = np.concatenate([speech, NON_SPEECH[kind](30.0)])
    finals = [e for e in stream(settings, speech_model, audio) if isinstance(e, CommittedSegment)]
    assert finals, "the speech itself is recognised"
    assert all(f.end <= len(speech) / 16_000 + 0.5 for f in finals)

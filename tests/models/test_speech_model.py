"""The real Whisper base model on real speech, streaming and offline.

Streaming runs charge a fixed cost per pass (:mod:`tests.models.streaming`), and every
band below holds over the spread measured under ``CT2_FORCE_CPU_ISA=GENERIC``, ``AVX``
and ``AVX2`` (``python scripts/isa_spread.py`` prints it).
"""

from __future__ import annotations

import dataclasses
from statistics import mean
from typing import Any

import numpy as np
import pytest
import sacrebleu

from interp import config
from interp.asr.faster_whisper import record_words, transcribe_offline
from interp.audio.source import decode_file
from interp.evaluation import word_error_rate
from interp.events import CommittedSegment, PartialText, TextEvent
from interp.pipeline.record import record_events

from . import signals
from .conftest import DATA
from .portable import flores, stream, stream_timed

pytestmark = pytest.mark.model


def finals_of(events: list[TextEvent]) -> list[CommittedSegment]:
    return [e for e in events if isinstance(e, CommittedSegment)]


def finals_text(events: list[TextEvent]) -> str:
    return " ".join(e.text for e in finals_of(events))


CLIPS = {
    "jfk.flac": "en",
    "fleurs-fr-005.ogg": "fr",
    "fleurs-es-002.ogg": "es",
    "fleurs-de-005.ogg": "de",
}


def reference(name: str) -> str:
    return (DATA / name).with_suffix(".txt").read_text()


@pytest.fixture(scope="module")
def streamed_timed(
    settings: config.Settings, speech_model: Any
) -> dict[str, list[tuple[TextEvent, float]]]:
    """Each clip's events from one streaming run, with the time each was emitted at."""
    return {name: stream_timed(settings, speech_model, decode_file(DATA / name)) for name in CLIPS}


@pytest.fixture(scope="module")
def streamed(
    streamed_timed: dict[str, list[tuple[TextEvent, float]]],
) -> dict[str, list[TextEvent]]:
    """Each clip's events from one streaming run."""
    return {name: [event for event, _ in events] for name, events in streamed_timed.items()}


@pytest.fixture(scope="module")
def offline(settings: config.Settings, speech_model: Any) -> dict[str, list[Any]]:
    """Each clip's segments from the offline transcription."""
    return {
        name: list(transcribe_offline(speech_model, decode_file(DATA / name), settings.asr))
        for name in CLIPS
    }


def test_streaming_recognises_real_speech(streamed: dict[str, list[TextEvent]]) -> None:
    errors = {name: word_error_rate(reference(name), finals_text(streamed[name])) for name in CLIPS}
    # Mean over the four clips 0.13/0.13/0.11 under GENERIC/AVX/AVX2; the worst clip
    # (fr-005) 0.28/0.22/0.22.
    assert mean(errors.values()) <= 0.22, errors
    assert max(errors.values()) <= 0.45, errors


def test_streaming_detects_the_language_per_utterance(
    streamed: dict[str, list[TextEvent]],
) -> None:
    """Every final carries its utterance's settled language, not a first guess."""
    for name, lang in CLIPS.items():
        finals = finals_of(streamed[name])
        assert finals and {f.lang for f in finals} == {lang}, (name, finals)


def test_streaming_finals_lie_within_the_audio_in_order(
    streamed: dict[str, list[TextEvent]],
) -> None:
    for name, events in streamed.items():
        duration = len(decode_file(DATA / name)) / 16_000
        finals = finals_of(events)
        for final in finals:
            assert 0 <= final.start <= final.end <= duration + 0.1
        segments = [f.segment for f in finals]
        assert segments == sorted(set(segments))


def test_streaming_shows_partials_before_finals(streamed: dict[str, list[TextEvent]]) -> None:
    """Each final's segment was shown as a partial before the final closed it."""
    for name, events in streamed.items():
        shown: set[int] = set()
        finals = 0
        for event in events:
            if isinstance(event, PartialText):
                shown.add(event.segment)
            elif isinstance(event, CommittedSegment):
                finals += 1
                assert event.segment in shown, (name, event)
        assert finals, name


def test_offline_recognises_real_speech(offline: dict[str, list[Any]]) -> None:
    errors = {
        name: word_error_rate(reference(name), " ".join(s.text for s in offline[name]))
        for name in CLIPS
    }
    # Mean over the four clips 0.06/0.06/0.06 under GENERIC/AVX/AVX2 (0.07/0.06/0.06
    # with the batched pipeline); the worst clip (fr-005) 0.17/0.17/0.17.
    assert mean(errors.values()) <= 0.2, errors
    assert max(errors.values()) <= 0.4, errors


def test_the_record_pass_is_as_good_as_offline_on_the_utterances_live_heard(
    settings: config.Settings,
    speech_model: Any,
    streamed_timed: dict[str, list[tuple[TextEvent, float]]],
    offline: dict[str, list[Any]],
) -> None:
    """Each utterance's finals decoded again as the server's record pass decodes them."""

    def decode(audio: Any, lang: str, prompt: str, end: float) -> list[Any]:
        return record_words(speech_model, audio, lang, prompt, end, settings.asr)

    record, live, plain = {}, {}, {}
    for name in CLIPS:
        events = streamed_timed[name]
        finals = finals_of([event for event, _ in events])
        records = record_events(decode, events, decode_file(DATA / name), settings.asr)
        assert records and set(records) <= {f.segment for f in finals}, name
        record[name] = word_error_rate(
            reference(name), " ".join(records.get(f.segment, f.text) for f in finals)
        )
        live[name] = word_error_rate(reference(name), finals_text([e for e, _ in events]))
        plain[name] = word_error_rate(reference(name), " ".join(s.text for s in offline[name]))
    # A first run (AVX2, one core busy) gave jfk 0.14 where live and offline give 0.0:
    # the record is not yet as good as offline on every clip, so the band is the
    # offline test's own, not a ratio to it.
    assert mean(record.values()) <= 0.2, (record, live, plain)
    assert max(record.values()) <= 0.4, (record, live, plain)


def test_offline_detects_the_language_of_each_recording(offline: dict[str, list[Any]]) -> None:
    for name, lang in CLIPS.items():
        assert offline[name] and {s.lang for s in offline[name]} == {lang}, name


def test_fixed_language_and_translate_task(settings: config.Settings, speech_model: Any) -> None:
    audio = decode_file(DATA / "fleurs-es-002.ogg")
    asr = dataclasses.replace(settings.asr, language="es", task="translate")
    translated = stream(dataclasses.replace(settings, asr=asr), speech_model, audio)
    assert translated and {e.lang for e in translated} == {"en"}
    english = finals_text(translated)
    # chrF against the FLORES English sentence: 36.8/33.8/36.9 under GENERIC/AVX/AVX2;
    # the Spanish sentence itself scores 19.3.
    chrf = sacrebleu.sentence_chrf(english, [flores("fleurs-es-002", "en")]).score
    assert chrf >= 26, english


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
    finals = finals_of(stream(settings, speech_model, audio))
    assert finals, "the speech itself is recognised"
    assert all(f.end <= len(speech) / 16_000 + 0.5 for f in finals)

"""Offline transcription is as accurate as plain faster-whisper with the same model.

Plain means ``WhisperModel.transcribe(audio, beam_size=5, vad_filter=True,
condition_on_previous_text=False)``.  WER is word-weighted over the clips, after one
normalisation for both.  The full comparison, on every file of the evaluation set, is
scripts/bench_offline.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from interp import config
from interp.asr.faster_whisper import transcribe_offline
from interp.audio.source import decode_file
from interp.evaluation import normalise_text, word_error_rate

from .conftest import DATA

pytestmark = pytest.mark.model

CLIPS = (
    "jfk.flac",
    "fleurs-de-005.ogg",
    "fleurs-es-002.ogg",
    "fleurs-fr-002.ogg",
    "fleurs-fr-005.ogg",
)
PLAIN = {"beam_size": 5, "vad_filter": True, "condition_on_previous_text": False}
RATIO = 1.02
"""Offline WER may exceed plain WER by this factor at most (the project's target)."""
MARGIN = 0.01
"""Added to the band: one word of the 104.  Measured with CT2_FORCE_CPU_ISA: plain WER
0.067 (AVX2), 0.144 (AVX, GENERIC: fleurs-fr-002 decodes differently), offline WER the
same as plain on each kernel (difference 0.000); the batched pipeline (10 s chunks)
measured 0.144 against 0.067 on AVX2 and fails the band."""
PLAIN_CEILING = 0.25
"""Plain WER over these clips stays well below this on every kernel (at most 0.144)."""


def weighted_wer(pairs: list[tuple[str, str]]) -> float:
    """WER over several (reference, hypothesis) pairs, weighted by reference words."""
    words = [len(normalise_text(reference).split()) for reference, _ in pairs]
    errors = sum(word_error_rate(r, h) * n for (r, h), n in zip(pairs, words, strict=True))
    return errors / sum(words)


def test_offline_wer_is_within_a_band_of_plain_faster_whisper(
    settings: config.Settings, speech_model: Any
) -> None:
    plain: list[tuple[str, str]] = []
    offline: list[tuple[str, str]] = []
    for name in CLIPS:
        audio = decode_file(DATA / name)
        reference = (DATA / name).with_suffix(".txt").read_text(encoding="utf-8")
        segments, _ = speech_model.transcribe(audio, **PLAIN)
        plain.append((reference, " ".join(s.text for s in segments)))
        ours = transcribe_offline(speech_model, audio, settings.asr)
        offline.append((reference, " ".join(s.text for s in ours)))
    plain_wer, offline_wer = weighted_wer(plain), weighted_wer(offline)
    assert plain_wer <= PLAIN_CEILING
    assert offline_wer <= plain_wer * RATIO + MARGIN, (offline_wer, plain_wer)

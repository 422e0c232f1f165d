"""Runs and measures of the real model that mean the same on every machine.

Measured time depends on the machine and its load, and through where the passes fall,
so do the words: every streaming test charges a fixed cost per recognition pass.  And
CTranslate2 picks its int8 kernels by CPU, so a decode may differ in a word from one
machine to the next: tests judge a decode by its error rate or by the share of the
spoken words it holds, never by one word.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from interp import config
from interp.evaluation import normalise_text
from interp.events import TextEvent
from interp.pipeline.simulate import PassCostClock, simulate_realtime
from interp.pipeline.speech import new_transcriber

DATA = Path(__file__).resolve().parent.parent / "data"

PASS_COST_S = 0.5
"""Near what a streaming pass of Whisper base costs on two idle cores: 0.7-1.6 s of
CPU time measured per pass of the test clips, shared by both cores."""


def stream(settings: config.Settings, model: Any, audio: np.ndarray) -> list[TextEvent]:
    """The events of a live run over ``audio``, on the fixed-cost clock."""
    return [event for event, _ in stream_timed(settings, model, audio)]


def stream_timed(
    settings: config.Settings, model: Any, audio: np.ndarray
) -> list[tuple[TextEvent, float]]:
    """The same, each event with the session time it was emitted at."""
    core = new_transcriber(settings, model)
    clock = PassCostClock(core, PASS_COST_S)
    return list(simulate_realtime(core, audio, clock=clock))


@cache
def _flores() -> dict[tuple[str, str], str]:
    with (DATA / "flores-translations.tsv").open(encoding="utf-8", newline="") as table:
        rows = list(csv.DictReader(table, delimiter="\t", quoting=csv.QUOTE_NONE))
    return {(row["clip"], lang): row[lang] for row in rows for lang in ("en", "es", "fr", "de")}


def flores(clip: str, lang: str) -> str:
    """The FLORES-200 sentence a FLEURS clip reads, in ``lang`` (a human translation)."""
    return _flores()[(clip, lang)]


def heard_fraction(spoken: str, hypothesis: str) -> float:
    """The share of the words of ``spoken`` that ``hypothesis`` holds, in any order."""
    words = normalise_text(spoken).split()
    heard = set(normalise_text(hypothesis).split())
    return sum(word in heard for word in words) / len(words)

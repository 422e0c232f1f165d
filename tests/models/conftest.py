"""Fixtures for tests that run the real speech model (installed by `make test`)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import jiwer
import pytest

from interp import config
from interp.pipeline.speech import load_speech_model

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def settings() -> config.Settings:
    return config.load(environ={})


@pytest.fixture(scope="session")
def speech_model(settings: config.Settings) -> Any:
    return load_speech_model(settings)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def word_error_rate(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(normalise(reference), normalise(hypothesis) or "-"))

"""Fixtures for tests that run the real speech model (installed by `make test`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

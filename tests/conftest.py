"""Shared test setup: ``tests/fakes.py`` importable as ``fakes``; no INTERP_* leaks in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)


@pytest.fixture(autouse=True)
def _no_interp_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read ``INTERP_*`` variables: a developer's shell must not change results."""
    for name in list(os.environ):
        if name.startswith("INTERP_") and not name.startswith("INTERP_TESTS_"):
            monkeypatch.delenv(name)

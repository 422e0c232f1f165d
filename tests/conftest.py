"""Shared test setup: no INTERP_* variable of the developer's shell leaks into a test."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_interp_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read ``INTERP_*`` variables: a developer's shell must not change results."""
    for name in list(os.environ):
        if name.startswith("INTERP_") and not name.startswith("INTERP_TESTS_"):
            monkeypatch.delenv(name)

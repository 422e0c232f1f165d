"""Shared test setup: a clean environment, and the project's own small Argos packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .deadlines import scaled

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "scripts" / "build_toy_argos.py"


@pytest.fixture(autouse=True)
def _no_interp_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings read ``INTERP_*`` variables: a developer's shell must not change results.

    The token and the default archive live under the XDG folders: a test's stay in
    its own temporary folder.
    """
    for name in list(os.environ):
        if name.startswith("INTERP_") and not name.startswith("INTERP_TESTS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def toy_packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"qaa_en": path, "en_qab": path}``, built by the script a user would run."""
    out = tmp_path_factory.mktemp("argos-packages")
    subprocess.run([sys.executable, str(BUILD_SCRIPT), str(out)], check=True, timeout=scaled(300))
    return {p.stem.removeprefix("translate-"): p for p in out.glob("*.argosmodel")}


@pytest.fixture(scope="session")
def toy_models_dir(tmp_path_factory: pytest.TempPathFactory, toy_packages: dict[str, Path]) -> Path:
    """A models folder with both toy packages installed through interp."""
    from interp.translation.argos import install_folder

    models_dir = tmp_path_factory.mktemp("models")
    install_folder(models_dir, next(iter(toy_packages.values())).parent)
    return models_dir

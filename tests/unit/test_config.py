"""config.load: defaults, then the TOML file, then INTERP_* variables, then flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.config import AsrSettings, Settings, VadSettings, load
from interp.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "interp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load(environ={})
    assert settings == Settings()
    assert settings.asr == AsrSettings()
    assert settings.vad == VadSettings()
    assert settings.asr.language is None
    assert settings.asr.task == "transcribe"
    assert settings.asr.step_ms == 700 and settings.asr.max_buffer_s == 15.0


def test_defaults_read_the_process_environment_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load() == Settings()  # the autouse fixture removed any INTERP_* variable
    monkeypatch.setenv("INTERP_ASR__LANGUAGE", "es")
    assert load().asr.language == "es"


def test_toml_file_overrides_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        glossary = "terms.csv"
        [asr]
        language = "fr"
        step_ms = 500
        max_buffer_s = 12
        [vad]
        threshold = 0.6
        [audio]
        chunk_ms = 50
        """,
    )
    settings = load(path, environ={})
    assert settings.asr.language == "fr"
    assert settings.asr.step_ms == 500
    assert settings.asr.max_buffer_s == 12.0 and isinstance(settings.asr.max_buffer_s, float)
    assert settings.vad.threshold == 0.6
    assert settings.audio.chunk_ms == 50
    assert settings.glossary == Path("terms.csv")
    assert settings.asr.first_pass_ms == AsrSettings().first_pass_ms  # untouched


def test_environment_overrides_the_file_and_flags_override_both(tmp_path: Path) -> None:
    path = write(tmp_path, '[asr]\nlanguage = "fr"\nstep_ms = 500\n')
    environ = {
        "INTERP_ASR__LANGUAGE": "DE",
        "INTERP_VAD__MIN_SILENCE_MS": "800",
        "INTERP_MODELS_DIR": "/srv/models",
        "INTERP_TESTS_WHATEVER": "ignored",
        "OTHER": "ignored",
    }
    settings = load(path, environ=environ)
    assert settings.asr.language == "de"
    assert settings.asr.step_ms == 500
    assert settings.vad.min_silence_ms == 800
    assert settings.models_dir == Path("/srv/models")
    flagged = load(path, environ=environ, overrides={"asr.language": "km", "asr.step_ms": None})
    assert flagged.asr.language == "km"
    assert flagged.asr.step_ms == 500  # a flag left unset (None) changes nothing


@pytest.mark.parametrize(
    "code",
    [
        "auto",
        "AUTO",
        " auto ",
    ],
)
def test_auto_language_means_detection(code: str) -> None:
    assert load(environ={"INTERP_ASR__LANGUAGE": code}).asr.language is None


@pytest.mark.parametrize(
    ("environ", "match"),
    [
        ({"INTERP_ASR__NOPE": "1"}, "unknown setting"),
        ({"INTERP_ASR_LANGUAGE": "fr"}, "unknown setting"),  # one underscore
        ({"INTERP_NOSECTION__X": "1"}, "unknown setting section"),
        ({"INTERP_ASR__LANGUAGE": "xx"}, "unknown language"),
        ({"INTERP_ASR__LANGUAGE": "english"}, "unknown language"),
        ({"INTERP_ASR__STEP_MS": "fast"}, "not a valid value"),
        ({"INTERP_VAD__THRESHOLD": "high"}, "not a valid value"),
        ({"INTERP_ASR__TASK": "summarise"}, "unknown task"),
    ],
)
def test_bad_environment_values(environ: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load(environ=environ)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[asr]\nnope = 1\n", "unknown setting"),
        ("language = 'fr'\n", "unknown setting"),
        ("[video]\nfps = 25\n", "unknown setting section"),
        ("[asr]\nlanguage = 'klingon'\n", "unknown language"),
        ("[asr]\nstep_ms = 'soon'\n", "not a valid value"),
        ("[asr\nlanguage = 'fr'\n", "cannot read configuration file"),
        ("[asr.deeper]\nx = 1\n", "unknown setting section"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load(write(tmp_path, text), environ={})


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load(tmp_path / "missing.toml", environ={})
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read"):
        load(binary, environ={})


def test_bad_flag_override() -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        load(environ={}, overrides={"asr.colour": "blue"})
    with pytest.raises(ConfigError, match="unknown language"):
        load(environ={}, overrides={"asr.language": "zz"})

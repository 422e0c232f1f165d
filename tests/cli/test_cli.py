"""The ``interp`` command as a user runs it: output, and one clear line per mistake."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from interp import cli
from interp.evaluation import word_error_rate
from tests.deadlines import Deadline, scaled
from tests.models.portable import PASS_COST_S, heard_fraction

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"

FIXED_COST = ("--pass-cost", str(PASS_COST_S))
"""``transcribe --stream`` on a clock that is the same on every machine."""


def interp(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interp", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=scaled(300),
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("interp: error: ")
    for fragment in expected:
        assert fragment in lines[0]


def test_missing_file() -> None:
    assert_one_line_error(interp("transcribe", "no-such-file.wav"), "no such audio file")


def test_corrupt_file(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8)
    assert_one_line_error(interp("transcribe", str(corrupt)), "corrupt.wav")


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert_one_line_error(interp("transcribe", str(empty)), "empty.wav")


def test_text_file_is_not_audio(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp3"
    notes.write_text("minutes of the meeting\n")
    assert_one_line_error(interp("transcribe", str(notes)), "notes.mp3")


def test_unknown_language() -> None:
    assert_one_line_error(
        interp("transcribe", str(DATA / "jfk.flac"), "--language", "klingon"), "unknown language"
    )


def test_negative_pass_cost() -> None:
    result = interp("transcribe", str(DATA / "jfk.flac"), "--stream", "--pass-cost", "-1")
    assert_one_line_error(result, "pass cost", "zero or more")


def test_missing_model_names_the_install_command(tmp_path: Path) -> None:
    result = interp("transcribe", str(DATA / "jfk.flac"), "--models-dir", str(tmp_path))
    assert_one_line_error(result, "not installed", "interp models install whisper-base")


def test_model_directory_that_is_not_a_model(tmp_path: Path) -> None:
    result = interp("transcribe", str(DATA / "jfk.flac"), "--model", str(tmp_path / "nothing"))
    assert_one_line_error(result, "not found")


def test_no_microphone() -> None:
    result = interp("demo", "--source", "mic:no-such-device-anywhere")
    assert_one_line_error(result)
    assert "no microphone" in result.stderr or "no audio input matches" in result.stderr


def test_bad_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "interp.toml"
    bad.write_text("[asr\nlanguage = 'fr'\n")
    assert_one_line_error(
        interp("--config", str(bad), "transcribe", str(DATA / "jfk.flac")), "interp.toml"
    )


def test_models_install_unknown_path(tmp_path: Path) -> None:
    assert_one_line_error(interp("models", "install", str(tmp_path / "missing")), "no such file")


@pytest.mark.model
def test_models_list_and_verify() -> None:
    listed = interp("models", "list")
    assert listed.returncode == 0
    assert "whisper-base" in listed.stdout and "installed" in listed.stdout
    assert "Argos" in listed.stdout
    verified = interp("models", "verify")
    assert verified.returncode == 0, verified.stdout
    assert "whisper-base" in verified.stdout and "ok" in verified.stdout


@pytest.mark.model
def test_stereo_44k_flac_offline_to_srt() -> None:
    """jfk.flac is 44.1 kHz stereo: valid input, resampled and downmixed."""
    import srt

    result = interp("transcribe", str(DATA / "jfk.flac"), "--format", "srt")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1\n00:00:")
    cues = list(srt.parse(result.stdout))
    assert cues and all(cue.end.total_seconds() <= 11.1 for cue in cues)
    heard = " ".join(cue.content for cue in cues)
    # Downmixed and resampled right, the speech is recognised: WER 0.00/0.00/0.00
    # under GENERIC/AVX/AVX2.
    assert word_error_rate((DATA / "jfk.txt").read_text(), heard) <= 0.2, heard


@pytest.mark.model
def test_stream_writes_v1_jsonl_events(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    result = interp(
        "transcribe", str(DATA / "fleurs-es-002.ogg"), "--stream", *FIXED_COST, "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events[0]["type"] == "session" and events[0]["state"] == "started"
    assert events[-1]["type"] == "session" and events[-1]["state"] == "ended"
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))
    assert {e["session"] for e in events} == {events[0]["session"]}
    finals = [e for e in events if e["type"] == "final"]
    partials = [e for e in events if e["type"] == "partial"]
    assert finals and partials
    for event in finals + partials:
        assert event["v"] == 1 and isinstance(event["lang"], str)
        assert event["emitted_at"] >= event["end"] >= event["start"] >= 0
    for partial in partials:
        assert 0 <= partial["stable"] <= len(partial["text"])
    # A final carries its utterance's settled language (a partial may show the first
    # pass's guess).
    assert {f["lang"] for f in finals} == {"es"}
    heard = " ".join(f["text"] for f in finals)
    # WER 0.00/0.00/0.00 under GENERIC/AVX/AVX2.
    assert word_error_rate((DATA / "fleurs-es-002.txt").read_text(), heard) <= 0.3, heard


@pytest.mark.model
def test_demo_captions_a_file_live(tmp_path: Path) -> None:
    """The live path: file source, worker threads, the server, terminal captions; Ctrl-C.

    It runs on the real clock, so where its passes fall depends on the machine: the
    words are judged loosely.
    """
    import signal
    import threading

    process = subprocess.Popen(
        [sys.executable, "-m", "interp", "demo", "--source", str(DATA / "fleurs-de-005.ogg"),
         "--speed", "4", "--port", "0", "--host", "127.0.0.1",
         "--archive", str(tmp_path / "archive.sqlite")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    stdout = process.stdout
    lines: list[str] = []
    translated = threading.Event()

    def read() -> None:
        for line in iter(stdout.readline, ""):
            lines.append(line)
            if "(es)" in line:
                translated.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    arrived = translated.wait(Deadline(120).remaining())
    process.send_signal(signal.SIGINT)  # the demo serves until Ctrl-C
    process.wait(timeout=scaled(60))
    reader.join(timeout=scaled(10))
    assert process.stderr is not None
    err = process.stderr.read()
    stdout.close()
    process.stderr.close()
    assert process.returncode == 0, err
    assert "delegates:" in err and "Traceback" not in err
    assert arrived, f"no Spanish caption in {scaled(120):.0f} s: {lines}"
    finals = [line for line in lines if line.startswith("[")]
    assert finals and all("(de)" in line for line in finals), lines
    german = " ".join(line.split(") ", 1)[1] for line in finals)
    assert heard_fraction((DATA / "fleurs-de-005.txt").read_text(), german) >= 0.4, lines


def test_unwritable_output(tmp_path: Path) -> None:
    result = interp(
        "transcribe", str(DATA / "jfk.flac"), "-o", str(tmp_path / "missing-dir" / "out.txt")
    )
    assert_one_line_error(result, "out.txt")


# -- transcribe --targets without --stream ---------------------------------------------


def _recognise_as(monkeypatch: pytest.MonkeyPatch, *texts: str) -> None:
    """A fake recogniser for the offline path: one segment per text, spoken in qaa.

    qaa is the toy packages' ROT13 English (tests/conftest.py), so the translation
    is exact.
    """
    from interp.asr import faster_whisper
    from interp.pipeline import speech

    def transcribe_offline(*args: Any, **kwargs: Any) -> Any:
        for index, text in enumerate(texts):
            yield faster_whisper.OfflineSegment(2.0 * index, 2.0 * index + 1.5, text, "qaa")

    monkeypatch.setattr(speech, "load_speech_model", lambda settings: object())
    monkeypatch.setattr(faster_whisper, "transcribe_offline", transcribe_offline)


def test_offline_targets_translate_every_final_once_into_each(
    monkeypatch: pytest.MonkeyPatch, toy_models_dir: Path, tmp_path: Path
) -> None:
    _recognise_as(monkeypatch, "Uryyb, jbeyq!", "Nffrzoyl.")
    out = tmp_path / "events.jsonl"
    status = cli.main(["--models-dir", str(toy_models_dir), "transcribe", str(DATA / "jfk.flac"),
                       "--targets", "en,qab", "--format", "jsonl", "-o", str(out)])  # fmt: skip
    assert status == 0
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["type"], e["segment"], e["lang"], e["text"]) for e in events] == [
        ("final", "seg-0", "qaa", "Uryyb, jbeyq!"),
        ("translation", "seg-0", "en", "Hello, world!"),
        ("translation", "seg-0", "qab", "HELLO, WORLD!"),
        ("final", "seg-1", "qaa", "Nffrzoyl."),
        ("translation", "seg-1", "en", "Assembly."),
        ("translation", "seg-1", "qab", "ASSEMBLY."),
    ]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    for event in events:
        assert event["v"] == 1 and event["emitted_at"] is None
    for event in events[1:3]:
        assert (event["start"], event["end"]) == (0.0, 1.5)
        assert event["source_lang"] == "qaa" and event["backend"] == "argos"


def test_offline_targets_write_one_caption_file_per_language(
    monkeypatch: pytest.MonkeyPatch, toy_models_dir: Path, tmp_path: Path
) -> None:
    import srt

    _recognise_as(monkeypatch, "Uryyb, jbeyq!", "Nffrzoyl.")
    out = tmp_path / "hearing.srt"
    status = cli.main(["--models-dir", str(toy_models_dir), "transcribe", str(DATA / "jfk.flac"),
                       "--targets", "qab", "--format", "srt", "-o", str(out)])  # fmt: skip
    assert status == 0
    assert sorted(p.name for p in tmp_path.glob("hearing*")) == ["hearing.qab.srt", "hearing.srt"]
    floor = list(srt.parse(out.read_text()))
    capitals = list(srt.parse((tmp_path / "hearing.qab.srt").read_text()))
    assert [cue.content for cue in floor] == ["Uryyb, jbeyq!", "Nffrzoyl."]
    assert [cue.content for cue in capitals] == ["HELLO, WORLD!", "ASSEMBLY."]
    assert [(c.start, c.end) for c in capitals] == [(c.start, c.end) for c in floor]


def test_offline_translation_that_fails_is_said_and_the_rest_written(
    monkeypatch: pytest.MonkeyPatch,
    toy_models_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _recognise_as(monkeypatch, "Uryyb, jbeyq!", "n " * 2000)  # over the engine's text limit
    out = tmp_path / "events.json"
    status = cli.main(["--models-dir", str(toy_models_dir), "transcribe", str(DATA / "jfk.flac"),
                       "--targets", "qab", "--format", "json", "-o", str(out)])  # fmt: skip
    assert status == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interp: error: 1 translation(s) failed")
    events = json.loads(out.read_text())
    assert [(e["type"], e["segment"]) for e in events] == [
        ("final", "seg-0"), ("translation", "seg-0"), ("final", "seg-1"), ("error", "seg-1")
    ]  # fmt: skip
    assert events[3]["lang"] == "qab" and "longer than" in events[3]["text"]


def test_offline_targets_to_a_terminal_caption_format_are_refused_up_front(
    toy_models_dir: Path,
) -> None:
    result = interp("--models-dir", str(toy_models_dir), "transcribe", str(DATA / "jfk.flac"),
                    "--targets", "qab")  # fmt: skip
    assert_one_line_error(result, "holds one language", "-o FILE", "--format json")


@pytest.mark.model
def test_offline_targets_with_apertium(tmp_path: Path) -> None:
    out = tmp_path / "minutes.json"
    result = interp("transcribe", str(DATA / "fleurs-en-008.ogg"), "--language", "en",
                    "--targets", "es,fr", "--format", "json", "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = json.loads(out.read_text())
    finals = [e for e in events if e["type"] == "final"]
    assert finals and all(e["type"] in ("final", "translation") for e in events)
    for target in ("es", "fr"):
        mine = [e for e in events if e["type"] == "translation" and e["lang"] == target]
        assert [e["segment"] for e in mine] == [f["segment"] for f in finals]
        for event, final in zip(mine, finals, strict=True):
            assert event["text"] and event["text"] != final["text"]
            assert event["backend"] == "apertium" and event["source_lang"] == "en"
    spanish = " ".join(e["text"] for e in events if e.get("lang") == "es")
    rendered = interp("translate", "--from", "en", "--to", "es",
                      stdin="\n".join(f["text"] for f in finals) + "\n")  # fmt: skip
    assert rendered.stdout.split() == spanish.split()


# -- packaging -------------------------------------------------------------------------


def test_the_wheel_carries_the_model_catalogue(tmp_path: Path) -> None:
    """An installed wheel has no source tree around it: the catalogue is package data."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copytree(ROOT / "interp", source / "interp",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "-w", str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True, timeout=scaled(300),
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("interp-*.whl")
    with zipfile.ZipFile(wheel) as built:
        assert "interp/data/catalog.toml" in built.namelist()
        built.extractall(tmp_path / "installed")
    # -S: without site-packages, so the editable install of this checkout is not seen.
    listed = subprocess.run(
        [sys.executable, "-S", "-c",
         "from interp import modelstore; print(modelstore.CATALOG, *modelstore.catalog_entries())"],
        cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "installed")},
        capture_output=True, text=True, check=True, timeout=scaled(60),
    )  # fmt: skip
    where, *names = listed.stdout.split()
    assert where.startswith(str(tmp_path / "installed"))
    assert {"whisper-base", "argos-zh-en"} <= set(names)

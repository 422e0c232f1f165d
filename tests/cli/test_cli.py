"""The ``interp`` command as a user runs it: output, and one clear line per mistake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from interp.evaluation import word_error_rate
from tests.deadlines import Deadline, scaled
from tests.models.portable import PASS_COST_S, heard_fraction

DATA = Path(__file__).resolve().parent.parent / "data"

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

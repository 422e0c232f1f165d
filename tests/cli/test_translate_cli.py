"""``interp translate``, ``--targets`` and Argos packages, as a user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .test_cli import DATA, assert_one_line_error, interp

GLOSSARY = (
    Path(__file__).resolve().parents[2] / "interp" / "data" / "glossary" / "iptp-plenary.toml"
)


def test_one_output_line_per_input_line() -> None:
    lines = ["Good morning.", "", "a " * 2000, "The Peace Charter was adopted."]
    result = interp(
        "translate", "--from", "en", "--to", "es", "--glossary", str(GLOSSARY),
        stdin="\n".join(lines) + "\n",
    )  # fmt: skip
    out = result.stdout.split("\n")
    assert out[:4] == ["Buenos días.", "", "", out[3]] and len(out) == 5 and out[4] == ""
    assert "Carta de la Paz" in out[3]
    # The oversized line is refused with a clear line, the others go on; the exit says so.
    assert result.returncode == 1
    assert "line 3" in result.stderr and "longer than" in result.stderr
    assert "Traceback" not in result.stderr


def test_text_argument() -> None:
    result = interp("translate", "--from", "en", "--to", "fr", "Good morning.")
    assert result.returncode == 0 and result.stdout == "Bonjour.\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--from", "en", "--to", "klingon"], "unknown language 'klingon'"),
        (["--from", "en", "--to", "km"], "no installed translation from en to km"),
        (["--from", "en", "--to", "km"], "interp models install FILE.argosmodel"),
    ],
)
def test_bad_languages(args: list[str], fragment: str) -> None:
    assert_one_line_error(interp("translate", *args, "Hello."), fragment)


def test_empty_text_argument() -> None:
    assert_one_line_error(interp("translate", "--from", "en", "--to", "es", " "), "empty")


def test_bad_glossary_row(tmp_path: Path) -> None:
    bad = tmp_path / "terms.csv"
    bad.write_text("term,es\nPeace Charter,Carta,extra\n")
    assert_one_line_error(
        interp("translate", "--from", "en", "--to", "es", "--glossary", str(bad), "x"), "line 2"
    )


def test_corrupt_argos_package(tmp_path: Path) -> None:
    bad = tmp_path / "translate-en_es.argosmodel"
    bad.write_bytes(b"not a zip at all")
    assert_one_line_error(
        interp("--models-dir", str(tmp_path), "models", "install", str(bad)), "zip archive"
    )


def test_models_list_names_backends_and_the_missing_argos_packages(tmp_path: Path) -> None:
    result = interp("--models-dir", str(tmp_path), "models", "list")
    assert result.returncode == 0, result.stderr
    assert "apertium  " in result.stdout and "en→es" in result.stdout
    assert "no Argos Translate package is installed" in result.stdout
    assert re.search(r"en→fr +apertium \(en → es → fr\)", result.stdout)


def test_argos_packages_through_the_command_line(
    tmp_path: Path, toy_packages: dict[str, Path]
) -> None:
    models = str(tmp_path)
    folder = next(iter(toy_packages.values())).parent
    installed = interp("--models-dir", models, "models", "install", str(folder))
    assert installed.returncode == 0, installed.stderr
    assert "installed: qaa→en" in installed.stdout and "installed: en→qab" in installed.stdout
    listed = interp("--models-dir", models, "models", "list").stdout
    assert re.search(r"qaa→qab +argos \(Argos pivot through en\)", listed)
    result = interp("--models-dir", models, "translate", "--from", "qaa", "--to", "qab",
                    stdin="Uryyb, jbeyq!\nNffrzoyl.\n")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "HELLO, WORLD!\nASSEMBLY.\n"


@pytest.mark.model
@pytest.mark.slow
def test_stream_with_targets_translates_every_final_once() -> None:
    result = interp(
        "transcribe", str(DATA / "jfk.flac"), "--stream", "--language", "en", "--targets", "es,fr"
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    finals = [e for e in events if e["type"] == "final"]
    translations = [e for e in events if e["type"] == "translation"]
    assert finals
    for target in ("es", "fr"):
        mine = [e for e in translations if e["lang"] == target]
        assert [e["segment"] for e in mine] == [f["segment"] for f in finals]
        for event, final in zip(mine, finals, strict=True):
            assert event["text"] and event["text"] != final["text"]
            assert (event["start"], event["end"]) == (final["start"], final["end"])
            assert event["emitted_at"] >= final["emitted_at"]
            assert event["source_lang"] == "en" and event["backend"] == "apertium"
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    spanish = " ".join(e["text"] for e in translations if e["lang"] == "es").lower()
    assert "país" in spanish  # "country"


def test_unreachable_target_is_refused_up_front() -> None:
    assert_one_line_error(
        interp("transcribe", str(DATA / "jfk.flac"), "--stream", "--language", "en",
               "--targets", "km"),
        "no installed translation from en to km",
    )  # fmt: skip


@pytest.mark.model
@pytest.mark.slow
def test_german_speech_reaches_english_and_on_through_english() -> None:
    result = interp(
        "transcribe", str(DATA / "fleurs-de-005.ogg"), "--stream", "--targets", "en,es"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    finals = [e for e in events if e["type"] == "final"]
    assert finals and all(f["lang"] == "de" for f in finals)
    english = [e for e in events if e["type"] == "translation" and e["lang"] == "en"]
    spanish = [e for e in events if e["type"] == "translation" and e["lang"] == "es"]
    assert [e["segment"] for e in english] == [f["segment"] for f in finals]
    assert all(e["backend"] == "whisper" for e in english)
    assert all(e["backend"] == "whisper+apertium" for e in spanish)
    heard = " ".join(e["text"] for e in english).lower()
    # Reference: "This sediment was necessary to create sandbars and beaches, which
    # served as wildlife habitats."
    assert "sediment" in heard and "necessary" in heard
    assert "sedimento" in " ".join(e["text"] for e in spanish).lower()

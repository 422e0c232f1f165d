"""The real argostranslate path on the project's own packages: install, load, translate, pivot.

The packages (``scripts/build_toy_argos.py``) are real CTranslate2 Transformers with
SentencePiece tokenizers doing a character cipher, so every result is exact:
``qaa`` is English in ROT13, ``qab`` is English in capitals.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from interp.errors import ConfigError, InputError
from interp.glossary import Glossary, Term
from interp.translation.argos import ArgosTranslator, network_refused
from interp.translation.service import TranslationService


def test_packages_translate_exactly(toy_models_dir: Path) -> None:
    argos = ArgosTranslator(toy_models_dir)
    assert argos.translate(["Uryyb, jbeyq!", "Gur Crnpr Punegre"], "qaa", "en") == [
        "Hello, world!",
        "The Peace Charter",
    ]
    assert argos.translate(["The Phnom Penh Declaration."], "en", "qab") == [
        "THE PHNOM PENH DECLARATION."
    ]


def test_argos_pivots_through_english(toy_models_dir: Path) -> None:
    argos = ArgosTranslator(toy_models_dir)
    pairs = {(p.source, p.target): p.detail for p in argos.pairs()}
    assert pairs[("qaa", "en")].startswith("Argos package translate-qaa_en")
    assert pairs[("qaa", "qab")] == "Argos pivot through en"
    assert argos.translate(["Nffrzoyl bs gur VCGC"], "qaa", "qab") == ["ASSEMBLY OF THE IPTP"]


def test_service_prefers_argos_and_pivots_across_backends(toy_models_dir: Path) -> None:
    from interp.translation.service import installed_service

    service = installed_service(toy_models_dir)
    try:
        assert service.require("qaa", "en").describe().startswith("argos (Argos package")
        # Argos to English, then Apertium from English into Spanish.
        route = service.require("qaa", "es")
        assert route.backend == "argos+apertium"
        assert service.translate(["Uryyb jbeyq."], "qaa", "es") == ["Hola Mundo."]
    finally:
        service.close()


def test_glossary_survives_the_engine(toy_models_dir: Path) -> None:
    service = TranslationService([ArgosTranslator(toy_models_dir)])
    glossary = Glossary(
        (Term("Peace Charter", {"qab": "Charter of Peace"}), Term("IPTP", keep=True))
    )
    # en→qab keeps the placeholder intact (capitals of "ZXQ1" are itself).
    assert service.translate_with_glossary(
        ["the Peace Charter of the IPTP"], "en", "qab", glossary
    ) == ["THE Charter of Peace OF THE IPTP"]
    # ROT13 mangles a placeholder, so the text is translated around the terms instead.
    rot13 = Glossary((Term("IPTP", keep=True),))
    assert service.translate_with_glossary(["nffrzoyl IPTP gbqnl"], "qaa", "en", rot13) == [
        "assembly IPTP today"
    ]


def test_install_refuses_what_is_not_a_package(tmp_path: Path) -> None:
    argos = ArgosTranslator(tmp_path / "models")
    junk = tmp_path / "junk.argosmodel"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="zip archive"):
        argos.install(junk)
    with pytest.raises(InputError, match="no such file"):
        argos.install(tmp_path / "missing.argosmodel")
    empty = tmp_path / "empty.argosmodel"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("pkg/metadata.json", "{}")
    with pytest.raises(InputError, match=r"missing pkg/model/model\.bin"):
        argos.install(empty)


def _repack(source: Path, target: Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        for item in src.infolist():
            name = item.filename.split("/", 1)[1]
            out.writestr(item, replace.get(name, src.read(item)))


def test_install_refuses_a_corrupt_model_and_leaves_nothing(
    tmp_path: Path, toy_packages: dict[str, Path]
) -> None:
    models_dir = tmp_path / "models"
    corrupt = tmp_path / "translate-qaa_en.argosmodel"
    _repack(toy_packages["qaa_en"], corrupt, {"model/model.bin": b"\x00" * 1000})
    with pytest.raises(InputError, match="does not load as an Argos package"):
        ArgosTranslator(models_dir).install(corrupt)
    assert not any((models_dir / "argos").iterdir())


def test_install_refuses_a_tokenizer_that_does_not_match(
    tmp_path: Path, toy_packages: dict[str, Path]
) -> None:
    import sentencepiece as spm

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(f"word{i} другое слово {i}" for i in range(200)), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(tmp_path / "other"),
        vocab_size=60,
        minloglevel=2,
    )
    mismatched = tmp_path / "translate-qaa_en.argosmodel"
    other = (tmp_path / "other.model").read_bytes()
    _repack(toy_packages["qaa_en"], mismatched, {"sentencepiece.model": other})
    with pytest.raises(InputError, match="tokenizer does not match"):
        ArgosTranslator(tmp_path / "models").install(mismatched)


def test_no_argos_pair_is_a_clear_error(toy_models_dir: Path) -> None:
    service = TranslationService([ArgosTranslator(toy_models_dir)])
    with pytest.raises(ConfigError, match="no installed translation from qab to qaa"):
        service.translate(["x"], "qab", "qaa")


def test_a_folder_of_packages_installs_in_one_step(
    tmp_path: Path, toy_packages: dict[str, Path]
) -> None:
    from interp.translation.argos import install_folder

    folder = tmp_path / "copied-in"
    folder.mkdir()
    for path in toy_packages.values():
        shutil.copy(path, folder)
    installed = install_folder(tmp_path / "models", folder)
    assert sorted((p.source, p.target) for p in installed) == [("en", "qab"), ("qaa", "en")]


# -- sentences are never split; nothing reaches the network ---------------------------


def _with_stanza_folder(source: Path, target: Path) -> None:
    """A copy of a package that carries a Stanza model folder, as real packages do."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as out:
        top = src.namelist()[0].split("/", 1)[0]
        for item in src.infolist():
            out.writestr(item, src.read(item))
        out.writestr(f"{top}/stanza/resources.json", "{}")
        out.writestr(f"{top}/stanza/qaa/tokenize/qaa.pt", b"\x00" * 64)


def test_a_package_with_a_stanza_folder_translates_offline_without_stanza(
    tmp_path: Path, toy_packages: dict[str, Path]
) -> None:
    # Stanza would fetch its resources.json on first use; the install's check runs
    # with the network refused, so before the splitter was replaced this install failed.
    package = tmp_path / "translate-qaa_en.argosmodel"
    _with_stanza_folder(toy_packages["qaa_en"], package)
    argos = ArgosTranslator(tmp_path / "models")
    assert [(p.source, p.target) for p in argos.install(package)] == [("qaa", "en")]
    assert (tmp_path / "models" / "argos" / "translate-qaa_en" / "stanza").is_dir()
    with network_refused():
        # Two sentences stay one text: nothing splits them.
        assert argos.translate(["Bar. Gjb."], "qaa", "en") == ["One. Two."]


def test_network_refused_refuses_lookups_and_connections_and_then_restores_them() -> None:
    import socket

    before = socket.getaddrinfo, socket.socket.connect, socket.create_connection
    with network_refused():
        with pytest.raises(OSError, match="network is refused"):
            socket.getaddrinfo("localhost", 80)
        with pytest.raises(OSError, match="network is refused"):
            socket.create_connection(("127.0.0.1", 9))
        with socket.socket() as sock, pytest.raises(OSError, match="network is refused"):
            sock.connect(("127.0.0.1", 9))
    assert (socket.getaddrinfo, socket.socket.connect, socket.create_connection) == before


# -- routes: text first, through English --------------------------------------------


def test_a_route_goes_to_english_and_on_from_english(toy_models_dir: Path) -> None:
    from interp.translation.service import installed_service

    service = installed_service(toy_models_dir)
    try:
        # Argos qaa→en, then Apertium en→es→fr: three legs.
        route = service.require("qaa", "fr")
        assert route.describe() == "argos+apertium (qaa → en → es → fr)"
        assert service.translate(["Tbbq zbeavat."], "qaa", "fr") == service.translate(
            ["Good morning."], "en", "fr"
        )
    finally:
        service.close()


def test_a_missing_pair_names_the_catalogue_package_that_serves_it() -> None:
    from interp.translation.apertium import ApertiumTranslator

    service = TranslationService([ApertiumTranslator()])
    try:
        for target in ("en", "es", "fr"):
            with pytest.raises(ConfigError, match="interp models install argos-zh-en"):
                service.require("zh", target)
        with pytest.raises(ConfigError, match="interp models install FILE.argosmodel"):
            service.require("km", "en")
    finally:
        service.close()


class _NoSpeech:
    """A speech translator that must not be asked: a text route exists."""

    name = "whisper"

    def translate(self, start: float, end: float, language: str) -> str:
        raise AssertionError("Whisper was asked although a text route exists")


def test_a_final_with_a_text_route_is_not_sent_to_the_speech_model(
    toy_models_dir: Path,
) -> None:
    from interp.events import CommittedSegment, Translation
    from interp.translation.service import installed_service
    from interp.translation.stage import translate_finals

    service = installed_service(toy_models_dir)
    try:
        final = CommittedSegment(0, "qaa", "Tbbq zbeavat.", 0.0, 1.5, 2.0)
        results = translate_finals(
            service,
            Glossary(),
            [final],
            ["en", "es", "fr"],
            lambda: 3.0,
            _NoSpeech(),  # type: ignore[arg-type]
        )
    finally:
        service.close()
    assert all(isinstance(r, Translation) for r in results)
    assert [(r.lang, r.backend) for r in results if isinstance(r, Translation)] == [
        ("en", "argos"),
        ("es", "argos+apertium"),
        ("fr", "argos+apertium"),
    ]
    assert results[0].text == "Good morning."  # type: ignore[union-attr]


# -- catalogue entries from a file in a source distribution ---------------------------


def _toy_catalogue(tmp_path: Path, package: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import hashlib

    from interp import modelstore

    catalogue = tmp_path / "catalog.toml"
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    catalogue.write_text(
        f"""
[toy-qaa-en]
kind = "translation"
description = "ROT13 English to English"
licence = "CC0"
attribution = "the project's own test package"
origin = "built by scripts/build_toy_argos.py"
from_code = "qaa"
to_code = "en"
sdist = "toy-cipher==1.0"
member = "toy-cipher-1.0/data/{package.name}"
sha256 = "{digest}"
""",
        encoding="utf-8",
    )
    monkeypatch.setattr(modelstore, "CATALOG", catalogue)
    return f"toy-cipher-1.0/data/{package.name}"


def _sdist(tmp_path: Path, members: dict[str, Path]) -> Path:
    import tarfile

    sdist = tmp_path / "toy-cipher-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for name, path in members.items():
            archive.add(path, arcname=name)
    return sdist


def test_a_catalogue_package_installs_from_a_local_sdist_and_verifies(
    tmp_path: Path, toy_packages: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from interp import modelstore

    member = _toy_catalogue(tmp_path, toy_packages["qaa_en"], monkeypatch)
    sdist = _sdist(tmp_path, {member: toy_packages["qaa_en"]})
    models_dir = tmp_path / "models"
    installed = modelstore.install_catalog_model("toy-qaa-en", models_dir, from_file=sdist)
    assert installed == models_dir / "argos" / "translate-qaa_en"
    record = json.loads((installed / "SOURCE.json").read_text(encoding="utf-8"))
    assert (record["licence"], record["pairs"]) == ("CC0", ["qaa-en"])
    assert "model/model.bin" in record["sha256"]
    assert [(m.name, m.kind) for m in modelstore.installed_models(models_dir)] == [
        ("toy-qaa-en", "translation")
    ]
    assert modelstore.verify(models_dir) == [("toy-qaa-en", True, "ok")]
    assert ArgosTranslator(models_dir).translate(["Uryyb."], "qaa", "en") == ["Hello."]
    # The member is kept: installing again fetches nothing (pip could not: no index).
    assert modelstore.cached_download("toy-qaa-en", models_dir) is not None
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert modelstore.install_catalog_model("toy-qaa-en", models_dir) == installed
    # A damaged file is found, and the message names the command that reinstalls it.
    (installed / "sentencepiece.model").write_bytes(b"damaged")
    ((name, ok, detail),) = modelstore.verify(models_dir)
    assert not ok and "sentencepiece.model checksum mismatch" in detail
    assert "interp models install toy-qaa-en" in detail


def test_a_catalogue_package_installs_from_the_argosmodel_itself(
    tmp_path: Path, toy_packages: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from interp import modelstore

    _toy_catalogue(tmp_path, toy_packages["qaa_en"], monkeypatch)
    models_dir = tmp_path / "models"
    modelstore.install_catalog_model("toy-qaa-en", models_dir, from_file=toy_packages["qaa_en"])
    assert modelstore.verify(models_dir) == [("toy-qaa-en", True, "ok")]


def test_a_catalogue_package_refuses_the_wrong_file_and_installs_nothing(
    tmp_path: Path, toy_packages: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from interp import modelstore
    from interp.errors import ModelUnavailable

    member = _toy_catalogue(tmp_path, toy_packages["qaa_en"], monkeypatch)
    models_dir = tmp_path / "models"
    with pytest.raises(ModelUnavailable, match="not the file the catalogue names"):
        modelstore.install_catalog_model("toy-qaa-en", models_dir, toy_packages["en_qab"])
    wrong = _sdist(tmp_path, {member: toy_packages["en_qab"]})
    with pytest.raises(ModelUnavailable, match="expected"):
        modelstore.install_catalog_model("toy-qaa-en", models_dir, from_file=wrong)
    elsewhere = _sdist(tmp_path, {"toy-cipher-1.0/README": toy_packages["qaa_en"]})
    with pytest.raises(InputError, match="does not contain toy-cipher-1.0/data/"):
        modelstore.install_catalog_model("toy-qaa-en", models_dir, from_file=elsewhere)
    notes = tmp_path / "notes.txt"
    notes.write_text("not an archive")
    with pytest.raises(InputError, match="neither the package's source distribution"):
        modelstore.install_catalog_model("toy-qaa-en", models_dir, from_file=notes)
    assert not (models_dir / "argos" / "translate-qaa_en").exists()
    assert modelstore.installed_models(models_dir) == []


def test_a_fetch_that_fails_names_the_offline_install(
    tmp_path: Path, toy_packages: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from interp import modelstore
    from interp.errors import ModelUnavailable

    _toy_catalogue(tmp_path, toy_packages["qaa_en"], monkeypatch)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip runs for real, and finds nothing offline
    with pytest.raises(ModelUnavailable) as failure:
        modelstore.install_catalog_model("toy-qaa-en", tmp_path / "models")
    message = str(failure.value)
    assert "could not fetch toy-cipher==1.0 from the package index" in message
    assert "interp models install toy-qaa-en --from FILE" in message
    assert "toy-cipher-1.0.tar.gz" in message

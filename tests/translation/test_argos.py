"""The real argostranslate path on the project's own packages: install, load, translate, pivot.

The packages (``scripts/build_toy_argos.py``) are real CTranslate2 Transformers with
SentencePiece tokenizers doing a character cipher, so every result is exact:
``qaa`` is English in ROT13, ``qab`` is English in capitals.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from interp.errors import ConfigError, InputError
from interp.glossary import Glossary, Term
from interp.translation.argos import ArgosTranslator
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

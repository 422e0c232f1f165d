"""Apertium from Debian's packages (installed by the set-up command), kept warm."""

from __future__ import annotations

import os
import signal

import pytest

from interp.errors import BackendError
from interp.glossary import Glossary, load_glossary
from interp.translation.apertium import ApertiumTranslator, installed_modes
from interp.translation.service import TranslationService

from .test_glossary import SHIPPED_GLOSSARY


@pytest.fixture()
def apertium() -> ApertiumTranslator:
    backend = ApertiumTranslator()
    yield backend  # type: ignore[misc]
    backend.close()


def test_the_set_up_installs_the_pairs_the_demo_needs() -> None:
    modes = installed_modes()
    for pair in [("en", "es"), ("es", "en"), ("fr", "es"), ("es", "fr"), ("en", "ca")]:
        assert pair in modes, f"Apertium pair {pair} missing: run the README's set-up command"


def test_translates_english_to_spanish(apertium: ApertiumTranslator) -> None:
    assert apertium.translate(["Hello world.", "Good morning."], "en", "es") == [
        "Hola Mundo.",
        "Buenos días.",
    ]


def test_stream_format_characters_pass_through(apertium: ApertiumTranslator) -> None:
    (out,) = apertium.translate(["Article [5] costs $10 or 20% <today> a/b @home."], "en", "es")
    for fragment in ("[5]", "$10", "20%", "<", ">", "/", "@"):
        assert fragment in out


def test_one_warm_pipeline_serves_every_sentence(apertium: ApertiumTranslator) -> None:
    apertium.translate(["One."], "en", "es")
    pipeline = apertium._pipelines["eng-spa"]
    apertium.translate([f"Sentence number {i}." for i in range(20)], "en", "es")
    assert apertium._pipelines["eng-spa"] is pipeline


def test_a_dead_pipeline_is_an_error_then_restarts(apertium: ApertiumTranslator) -> None:
    apertium.translate(["One."], "en", "es")
    os.killpg(apertium._pipelines["eng-spa"].pid, signal.SIGKILL)
    with pytest.raises(BackendError, match="Apertium en-es"):
        apertium.translate(["Two."], "en", "es")
    assert apertium.translate(["Good morning."], "en", "es") == ["Buenos días."]


def test_two_legs_through_spanish() -> None:
    service = TranslationService([ApertiumTranslator()])
    try:
        assert service.require("en", "fr").describe() == "apertium (en → es → fr)"
        (out,) = service.translate(["Good morning."], "en", "fr")
        assert out == "Bonjour."
    finally:
        service.close()


def test_glossary_terms_rendered_as_specified_through_apertium() -> None:
    glossary = load_glossary(SHIPPED_GLOSSARY)
    sentences = [
        "The Peace Charter was adopted by the IPTP.",
        "Delegates signed the Phnom Penh Declaration in the Kingdom of Cambodia.",
        "The International Parliament for Tolerance and Peace met in Phnom Penh.",
        "ASEAN welcomed the Phnom Penh Declaration and the Peace Charter.",
        "Samdech Techo Hun Sen spoke about the Charter of the United Nations.",
    ]
    service = TranslationService([ApertiumTranslator()])
    try:
        for target in ("es", "fr"):
            out = service.translate_with_glossary(sentences, "en", target, glossary)
            for sentence, translated in zip(sentences, out, strict=True):
                for term in glossary.terms:
                    if term.source in sentence and not any(
                        term.source in other.source
                        and term.source != other.source
                        and other.source in sentence
                        for other in glossary.terms
                    ):
                        wanted = term.form(target)
                        assert wanted and wanted in translated, (target, translated, wanted)
    finally:
        service.close()


def test_without_a_glossary_nothing_is_protected() -> None:
    service = TranslationService([ApertiumTranslator()])
    try:
        assert service.translate_with_glossary(["Good morning."], "en", "es", Glossary()) == [
            "Buenos días."
        ]
    finally:
        service.close()

"""Glossary enforcement, the pure part: protect, restore, translate around terms."""

from __future__ import annotations

from pathlib import Path

from interp.glossary import Glossary, Term, load_glossary

SHIPPED_GLOSSARY = (
    Path(__file__).resolve().parents[2] / "interp" / "data" / "glossary" / "iptp-plenary.toml"
)


def test_longest_term_wins_and_case_is_ignored() -> None:
    glossary = load_glossary(SHIPPED_GLOSSARY)
    protected = glossary.protect("the phnom penh declaration, in Phnom Penh", "en", "fr")
    assert protected.text == "the ZXQ1, in ZXQ2"
    assert protected.renderings == ("Déclaration de Phnom Penh", "Phnom Penh")


def test_only_terms_known_in_both_languages_are_protected() -> None:
    glossary = Glossary((Term("Peace Charter", {"fr": "Charte de la paix"}),))
    assert glossary.protect("the Peace Charter", "en", "de").renderings == ()
    assert glossary.protect("la Charte de la paix", "fr", "en").text == "la ZXQ1"


def test_words_inside_other_words_are_not_terms() -> None:
    glossary = Glossary((Term("IPTP", keep=True),))
    assert glossary.protect("IPTPs and xIPTP", "en", "es").renderings == ()


def test_restore_refuses_a_lost_or_mangled_placeholder() -> None:
    protected = Glossary((Term("IPTP", keep=True),)).protect("the IPTP met", "en", "es")
    assert protected.restore("el ZXQ1 se reunió") == "el IPTP se reunió"
    assert protected.restore("el MKD1 se reunió") is None
    assert protected.restore("el ZXQ1 ZXQ1") is None


def test_text_already_holding_a_placeholder_is_left_alone() -> None:
    protected = Glossary((Term("IPTP", keep=True),)).protect("ZXQ1 and IPTP", "en", "es")
    assert protected.renderings == ()


def test_pieces_split_around_terms() -> None:
    protected = Glossary((Term("IPTP", keep=True),)).protect("the IPTP met. IPTP", "en", "es")
    assert protected.pieces() == ["the", 0, "met.", 1]


def test_marks_for_the_interpreter_page() -> None:
    glossary = load_glossary(SHIPPED_GLOSSARY)
    text = "La Charte de la paix et la Déclaration de Phnom Penh"
    spans = glossary.marks(text, "fr")
    assert [text[a:b] for a, b in spans] == ["Charte de la paix", "Déclaration de Phnom Penh"]

"""The session glossary: its two file formats, its prompt, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from interp.errors import ConfigError
from interp.glossary import load_glossary

SHIPPED = Path(__file__).resolve().parents[2] / "interp" / "data" / "glossary" / "iptp-plenary.toml"


def test_shipped_glossary_loads_and_prompts_its_terms() -> None:
    glossary = load_glossary(SHIPPED)
    sources = [t.source for t in glossary.terms]
    assert "Peace Charter" in sources and "Phnom Penh Declaration" in sources
    charter = next(t for t in glossary.terms if t.source == "Peace Charter")
    assert charter.renderings["fr"] == "Charte de la paix"
    assert next(t for t in glossary.terms if t.source == "IPTP").keep
    prompt = glossary.prompt()
    assert prompt.startswith("IPTP, ") and "Peace Charter" in prompt and len(prompt) <= 201


def test_csv_glossary(tmp_path: Path) -> None:
    path = tmp_path / "terms.csv"
    path.write_text("term,fr,es\nPeace Charter,Charte de la paix,Carta de la Paz\nIPTP,=,=\n\n")
    glossary = load_glossary(path)
    assert [t.source for t in glossary.terms] == ["Peace Charter", "IPTP"]
    assert glossary.terms[1].renderings == {"fr": "IPTP", "es": "IPTP"}


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("bad.csv", "term,fr\nPeace Charter,Charte,extra\n", "line 2"),
        ("bad.csv", "term,fr\n,Charte\n", "line 2"),
        ("bad.toml", "[[term]]\nfr = 'Charte'\n", "term 1"),
        ("bad.toml", "[[term]]\nsource = 'X'\nkeep = 'yes'\n", "keep"),
        ("bad.toml", "[[term]\n", "bad.toml"),
        ("terms.txt", "Peace Charter\n", ".toml or .csv"),
    ],
)
def test_bad_glossary_is_one_clear_error(
    tmp_path: Path, name: str, content: str, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        load_glossary(path)


def test_missing_glossary(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read glossary"):
        load_glossary(tmp_path / "none.toml")

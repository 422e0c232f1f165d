"""The session glossary: names and titles the assembly renders its own way.

Recognition is biased towards the terms through the model's prompt.  A glossary is a
TOML file (``[[term]]`` tables) or a CSV file whose first column is the term and whose
other columns, named by language code, give its rendering (``=`` keeps it as is)::

    [[term]]
    source = "Peace Charter"
    fr = "Charte de la paix"
    es = "Carta de la Paz"

    [[term]]
    source = "IPTP"
    keep = true        # the same in every language
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

_PROMPT_CHARS = 200


@dataclass(frozen=True, slots=True)
class Term:
    source: str
    renderings: dict[str, str] = field(default_factory=dict)
    keep: bool = False
    """The term stays as it is in every language."""


@dataclass(frozen=True, slots=True)
class Glossary:
    terms: tuple[Term, ...] = ()

    def prompt(self) -> str:
        """A short prompt that makes the speech model spell the terms as listed."""
        if not self.terms:
            return ""
        listed = ""
        for term in self.terms:
            candidate = f"{listed}, {term.source}" if listed else term.source
            if len(candidate) > _PROMPT_CHARS:
                break
            listed = candidate
        return f"{listed}."


def _term(source: object, values: dict[str, object], where: str) -> Term:
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{where}: a glossary term needs a non-empty 'source'")
    keep = values.pop("keep", False)
    if not isinstance(keep, bool):
        raise ConfigError(f"{where}: 'keep' must be true or false")
    renderings: dict[str, str] = {}
    for lang, text in values.items():
        if not isinstance(text, str) or not lang.isalpha() or len(lang) > 3:
            raise ConfigError(f"{where}: {lang!r} = {text!r} is not a language code and its text")
        renderings[lang.lower()] = source.strip() if text.strip() == "=" else text.strip()
    return Term(source.strip(), renderings, keep)


def load_glossary(path: Path) -> Glossary:
    """Read a TOML or CSV glossary.

    Raises:
        ConfigError: the file is missing or a row is malformed (the message says which).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read glossary {path}: {exc}") from exc
    terms: list[Term] = []
    if path.suffix.lower() == ".toml":
        try:
            table = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"glossary {path}: {exc}") from exc
        entries = table.get("term", [])
        if not isinstance(entries, list):
            raise ConfigError(f"glossary {path}: terms must be [[term]] tables")
        for number, entry in enumerate(entries, start=1):
            values = dict(entry)
            terms.append(
                _term(values.pop("source", None), values, f"glossary {path}, term {number}")
            )
    elif path.suffix.lower() == ".csv":
        rows = list(csv.reader(text.splitlines()))
        if not rows:
            return Glossary()
        header = [cell.strip().lower() for cell in rows[0]]
        for number, row in enumerate(rows[1:], start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise ConfigError(f"glossary {path}, line {number}: more cells than the header")
            values = {lang: cell for lang, cell in zip(header[1:], row[1:], strict=False) if cell}
            terms.append(_term(row[0], dict(values), f"glossary {path}, line {number}"))
    else:
        raise ConfigError(f"glossary {path}: use a .toml or .csv file")
    return Glossary(tuple(terms))

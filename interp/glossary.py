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
import re
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

    def form(self, lang: str) -> str | None:
        """How the term is written in ``lang``; ``None`` when the glossary does not say.

        ``source`` is the English form.
        """
        if self.keep:
            return self.source
        if lang in self.renderings:
            return self.renderings[lang]
        return self.source if lang == "en" else None


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

    def protect(self, text: str, source: str, target: str) -> Protected:
        """Replace each term written in ``source`` by a placeholder an engine passes through.

        Only terms with a form in both languages are protected; the longest match wins,
        so "Phnom Penh Declaration" is one term, not "Phnom Penh" and a word.
        """
        pairs = [
            (found, wanted)
            for term in self.terms
            if (found := term.form(source)) and (wanted := term.form(target))
        ]
        if not pairs or _PLACEHOLDER.search(text):
            return Protected(text, ())
        pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
        rendering = {found.casefold(): wanted for found, wanted in pairs}
        pattern = re.compile(
            r"(?<!\w)(" + "|".join(re.escape(found) for found, _ in pairs) + r")(?!\w)",
            re.IGNORECASE,
        )
        renderings: list[str] = []

        def mark(match: re.Match[str]) -> str:
            renderings.append(rendering[match.group(1).casefold()])
            return f"ZXQ{len(renderings)}"

        return Protected(pattern.sub(mark, text), tuple(renderings))

    def marks(self, text: str, lang: str) -> list[tuple[int, int]]:
        """Character spans of the glossary terms as written in ``lang`` (for highlighting)."""
        forms = sorted({f for t in self.terms if (f := t.form(lang))}, key=len, reverse=True)
        if not forms:
            return []
        pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(f) for f in forms) + r")(?!\w)", re.IGNORECASE
        )
        return [match.span() for match in pattern.finditer(text)]


_PLACEHOLDER = re.compile(r"ZXQ(\d+)")


@dataclass(frozen=True, slots=True)
class Protected:
    """Text with glossary terms replaced by ``ZXQ1``, ``ZXQ2``...; the renderings to restore."""

    text: str
    renderings: tuple[str, ...]

    def restore(self, translated: str) -> str | None:
        """Put the target renderings back; ``None`` if the engine lost or mangled a placeholder."""
        found = [int(n) for n in _PLACEHOLDER.findall(translated)]
        if sorted(found) != list(range(1, len(self.renderings) + 1)):
            return None
        return _PLACEHOLDER.sub(lambda m: self.renderings[int(m.group(1)) - 1], translated)

    def pieces(self) -> list[str | int]:
        """The text split around its placeholders: strings to translate, indexes of terms."""
        parts: list[str | int] = []
        for i, piece in enumerate(_PLACEHOLDER.split(self.text)):
            if i % 2:
                parts.append(int(piece) - 1)
            elif piece.strip():
                parts.append(piece.strip())
        return parts


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


def load_glossary(path: Path | None) -> Glossary:
    """Read a TOML or CSV glossary; no path is an empty glossary.

    Raises:
        ConfigError: the file is missing or a row is malformed (the message says which).
    """
    if path is None:
        return Glossary()
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

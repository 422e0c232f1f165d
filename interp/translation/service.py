"""Routes between languages over whatever backends are installed, and the glossary.

A pair is served directly by the first backend that has it (Argos before Apertium, so
a venue's neural packages win), or in two legs through English, or failing that
through any language both legs share (Apertium French to English goes through
Spanish), or failing that to English and on from English, each side itself direct or
in two legs (Argos Chinese to English, then Apertium English to French through
Spanish).  Each leg may use a different backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import BackendError, ConfigError, InputError
from ..glossary import Glossary
from .base import Pair, PairInfo, Translator

_CODE = re.compile(r"^[a-z]{2,3}$")
PIVOT = "en"


@dataclass(frozen=True, slots=True)
class Route:
    legs: tuple[PairInfo, ...]

    @property
    def backend(self) -> str:
        names = dict.fromkeys(leg.backend for leg in self.legs)
        return "+".join(names)

    def describe(self) -> str:
        if len(self.legs) == 1:
            return f"{self.legs[0].backend} ({self.legs[0].detail})"
        path = " → ".join([self.legs[0].source, *(leg.target for leg in self.legs)])
        return f"{self.backend} ({path})"


def check_language(code: str) -> str:
    normalised = code.strip().lower()
    if not _CODE.match(normalised):
        raise ConfigError(f"unknown language {code!r}: use a two- or three-letter code such as es")
    return normalised


class TranslationService:
    """Translates text between any two languages the installed backends connect."""

    def __init__(self, backends: list[Translator], max_chars: int = 2000) -> None:
        self.backends = backends
        self.max_chars = max_chars
        self._direct: dict[Pair, PairInfo] = {}
        self._translators = {backend.name: backend for backend in backends}
        for backend in backends:  # earlier backends win a pair
            for info in backend.pairs():
                self._direct.setdefault((info.source, info.target), info)
        self._routes: dict[Pair, Route | None] = {}

    def languages(self) -> set[str]:
        return {code for pair in self._direct for code in pair}

    def route(self, source: str, target: str) -> Route | None:
        pair = (source, target)
        if pair not in self._routes:
            self._routes[pair] = self._find(source, target)
        return self._routes[pair]

    def _find(self, source: str, target: str) -> Route | None:
        if (source, target) in self._direct:
            return Route((self._direct[(source, target)],))
        middles = sorted(self.languages() - {source, target}, key=lambda code: code != PIVOT)
        for middle in middles:
            first, second = self._direct.get((source, middle)), self._direct.get((middle, target))
            if first and second:
                return Route((first, second))
        if PIVOT not in (source, target):
            to_english, from_english = self.route(source, PIVOT), self.route(PIVOT, target)
            if to_english and from_english:
                return Route(to_english.legs + from_english.legs)
        return None

    def all_routes(self) -> list[tuple[Pair, Route]]:
        found = []
        for source in sorted(self.languages()):
            for target in sorted(self.languages() - {source}):
                route = self.route(source, target)
                if route is not None:
                    found.append(((source, target), route))
        return found

    def require(self, source: str, target: str) -> Route:
        """The route for a pair, or a clear error naming what is installed."""
        source, target = check_language(source), check_language(target)
        route = self.route(source, target)
        if route is None:
            served = ", ".join(f"{s}→{t}" for (s, t), _ in self.all_routes()) or "none"
            raise ConfigError(
                f"no installed translation from {source} to {target} (installed: {served}); "
                f"{self._install_hint(source, target)}"
            )
        return route

    def _install_hint(self, source: str, target: str) -> str:
        """The command that installs what is missing: a catalogue package, or any package."""
        from ..modelstore import catalog_entries

        for name, entry in catalog_entries().items():
            reaches = entry.get("to_code") == target or (
                isinstance(entry.get("to_code"), str) and self.route(entry["to_code"], target)
            )
            if entry.get("from_code") == source and reaches:
                return f"install it with: interp models install {name}"
        return "install an Argos package with: interp models install FILE.argosmodel"

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate plain texts (raises BackendError, ConfigError or InputError)."""
        for text in texts:
            if len(text) > self.max_chars:
                raise InputError(
                    f"a text of {len(text)} characters is longer than the "
                    f"{self.max_chars} a translation takes"
                )
        route = self.require(source, target)
        pending = [i for i, text in enumerate(texts) if text.strip()]
        results = [""] * len(texts)
        current = [texts[i] for i in pending]
        for leg in route.legs:
            current = self._translators[leg.backend].translate(current, leg.source, leg.target)
            if len(current) != len(pending):
                raise BackendError("translation", f"{leg.backend} returned a wrong number of texts")
        for i, text in zip(pending, current, strict=True):
            results[i] = text
        return results

    def translate_with_glossary(
        self, texts: list[str], source: str, target: str, glossary: Glossary
    ) -> list[str]:
        """Translate, with each glossary term rendered exactly as the glossary says.

        Terms travel through the engine as placeholders, so the sentence keeps its
        context; where an engine mangles a placeholder, the text is translated in
        pieces around the terms instead.
        """
        protected = [glossary.protect(text, source, target) for text in texts]
        translated = self.translate([p.text for p in protected], source, target)
        results = []
        for item, text in zip(protected, translated, strict=True):
            restored = item.restore(text)
            if restored is None:
                pieces = item.pieces()
                words = [p for p in pieces if isinstance(p, str)]
                done = iter(self.translate(words, source, target))
                restored = " ".join(
                    item.renderings[p] if isinstance(p, int) else next(done) for p in pieces
                )
            results.append(restored)
        return results

    def close(self) -> None:
        for backend in self.backends:
            backend.close()


def installed_service(
    models_dir: Path, threads: int = 1, max_chars: int = 2000
) -> TranslationService:
    """Every backend installed on this machine, Argos first."""
    from .apertium import ApertiumTranslator
    from .argos import ArgosTranslator

    backends: list[Translator] = [ArgosTranslator(models_dir, threads), ApertiumTranslator()]
    return TranslationService(backends, max_chars)

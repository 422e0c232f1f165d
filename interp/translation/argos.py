"""Argos Translate, the main engine: packages installed from local ``.argosmodel`` files.

This is the only module that imports argostranslate.  Argos reads its settings from the
environment when it is first imported, so :func:`_argos` points it at interp's own
package folder (``models/argos``), the CPU and our thread count before that import,
and never lets it reach its package index.

Argos splits text into sentences with a model: Stanza's when the package carries a
``stanza/`` folder (a real package's), MiniSBD's or spaCy's otherwise.  Each of them
may download something on first use (Stanza fetches its ``resources.json`` even when
the package ships the model), so interp never lets them run: every package gets a
splitter that keeps the text whole, which suits captions, since a final is one
sentence.  spaCy is hidden from argostranslate's import, so it can neither be loaded
nor fetch its model.

Installing a package translates with it through the same route as a session does,
with the network refused, so a package that would reach for it fails at install.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from ..errors import BackendError, InputError
from .base import PairInfo

logger = logging.getLogger(__name__)

_lock = threading.RLock()
_modules: dict[str, Any] = {}  # argostranslate's modules, once imported


def packages_dir(models_dir: Path) -> Path:
    return models_dir / "argos"


def _argos(directory: Path, threads: int) -> tuple[Any, Any, Any]:
    """Import argostranslate configured for ``directory``; re-point it if it changed."""
    directory.mkdir(parents=True, exist_ok=True)
    with _lock:
        if not _modules:
            os.environ["ARGOS_PACKAGES_DIR"] = str(directory)
            os.environ["ARGOS_DEVICE_TYPE"] = "cpu"
            os.environ["ARGOS_INTRA_THREADS"] = str(threads)
            os.environ["ARGOS_PACKAGE_INDEX"] = "file:///nonexistent/"  # never the network
            # Overrule a user's settings.json: local models only, Argos's own splitting
            # choice (replaced below), never the spaCy one that downloads at import.
            os.environ["ARGOS_MODEL_PROVIDER"] = "OPENNMT"
            os.environ["ARGOS_CHUNK_TYPE"] = "ARGOSTRANSLATE"
            hide_spacy = "spacy" not in sys.modules
            if hide_spacy:
                sys.modules["spacy"] = None  # type: ignore[assignment]  # ImportError in sbd
            try:
                from argostranslate import package, settings, translate
            except ImportError as exc:
                raise BackendError(
                    "translation",
                    "argostranslate is not installed; run the README's setup command",
                ) from exc
            finally:
                if hide_spacy:
                    del sys.modules["spacy"]
            # Every package argostranslate loads from now on splits with _WholeText.
            for splitter in ("StanzaSentencizer", "MiniSBDSentencizer", "SpacySentencizerSmall"):
                setattr(translate, splitter, _WholeText)
            # Argos logs every step at INFO on its own logger; keep only its errors.
            quiet = not logging.getLogger("interp").isEnabledFor(logging.DEBUG)
            logging.getLogger("argostranslate.utils").setLevel(
                logging.ERROR if quiet else logging.DEBUG
            )
            _modules.update(package=package, settings=settings, translate=translate)
        package, settings, translate = (
            _modules["package"],
            _modules["settings"],
            _modules["translate"],
        )
        if settings.package_data_dir != directory:
            settings.package_data_dir = directory
            settings.package_dirs = [directory]
            translate.get_installed_languages.cache_clear()
            translate.installed_translates.clear()
        return package, settings, translate


class _WholeText:
    """A sentence splitter that keeps the text whole (see the module's note)."""

    def __init__(self, pkg: Any = None) -> None:
        self.pkg = pkg

    def split_sentences(self, text: str) -> list[str]:
        return [text]


def _refuse(*args: object, **kwargs: object) -> NoReturn:
    raise OSError("the network is refused while an Argos package is checked")


@contextlib.contextmanager
def network_refused() -> Iterator[None]:
    """Within the block, any connection or name lookup of this process raises OSError.

    Installation runs on a connected machine; the venue may have no network.  What a
    package would fetch on first use must fail at install, not in the room.
    """
    saved = {
        (socket.socket, "connect"): socket.socket.connect,
        (socket.socket, "connect_ex"): socket.socket.connect_ex,
        (socket, "create_connection"): socket.create_connection,
        (socket, "getaddrinfo"): socket.getaddrinfo,
    }
    for owner, name in saved:
        setattr(owner, name, _refuse)
    try:
        yield
    finally:
        for (owner, name), original in saved.items():
            setattr(owner, name, original)


def _check_archive(path: Path) -> str:
    """The package folder inside an ``.argosmodel`` file; raise InputError if it is not one."""
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path} is not an Argos package: an .argosmodel file is a zip archive")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        tops = {name.split("/", 1)[0] for name in names}
        if len(tops) != 1 or any(name.startswith("/") or ".." in name.split("/") for name in names):
            raise InputError(f"{path} is not an Argos package: it must hold exactly one folder")
        top = tops.pop()
        needed = [f"{top}/metadata.json", f"{top}/model/model.bin"]
        missing = [name for name in needed if name not in names]
        if f"{top}/sentencepiece.model" not in names and f"{top}/bpe.model" not in names:
            missing.append(f"{top}/sentencepiece.model")
        if missing:
            raise InputError(
                f"{path} is not a complete Argos package: missing {', '.join(missing)}"
            )
        try:
            metadata = json.loads(archive.read(f"{top}/metadata.json"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: metadata.json is not valid JSON ({exc})") from exc
        if metadata.get("type", "translate") == "translate" and not (
            isinstance(metadata.get("from_code"), str) and isinstance(metadata.get("to_code"), str)
        ):
            raise InputError(f"{path}: metadata.json names no from_code and to_code")
    return top


class ArgosTranslator:
    """The installed Argos packages, with Argos's own pivots between them."""

    name = "argos"

    def __init__(self, models_dir: Path, threads: int = 1) -> None:
        self._dir = packages_dir(models_dir)
        self._threads = threads

    def _installed(self) -> list[dict[str, Any]]:
        """The metadata of each installed translation package, read without argostranslate.

        Importing argostranslate costs seconds (it imports Stanza, and Stanza torch);
        listing the pairs must not, or every command and session start would pay it.
        """
        if not self._dir.is_dir():
            return []
        found = []
        for path in sorted(self._dir.glob("*/metadata.json")):
            try:
                metadata = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                logger.warning("skipping the Argos package in %s: %s", path.parent, exc)
                continue
            codes = metadata.get("from_code"), metadata.get("to_code")
            if metadata.get("type", "translate") == "translate" and all(
                isinstance(code, str) for code in codes
            ):
                found.append(metadata)
        return found

    def pairs(self) -> list[PairInfo]:
        direct: dict[tuple[str, str], dict[str, Any]] = {}
        for metadata in self._installed():
            direct.setdefault((metadata["from_code"], metadata["to_code"]), metadata)
        found = []
        for (s, t), metadata in sorted(direct.items()):
            code = metadata.get("code") or f"{s}_{t}"
            version = metadata.get("package_version", "")
            found.append(PairInfo(s, t, self.name, f"Argos package {code} {version}".strip()))
        # Argos chains its packages through any language, as argostranslate's
        # get_installed_languages composes them; the first hop names the pivot.
        for source in sorted({s for s, _ in direct}):
            first_hop = {t: t for s, t in direct if s == source}
            frontier = sorted(first_hop)
            while frontier:
                reached = []
                for middle in frontier:
                    for s, t in sorted(direct):
                        if s == middle and t != source and t not in first_hop:
                            first_hop[t] = first_hop[middle]
                            reached.append(t)
                frontier = reached
            for target, via in sorted(first_hop.items()):
                if (source, target) not in direct:
                    found.append(PairInfo(source, target, self.name, f"Argos pivot through {via}"))
        return found

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        _, _, translate = _argos(self._dir, self._threads)
        with _lock:
            route = translate.get_translation_from_codes(source, target)
            if route is None:
                raise BackendError(
                    "translation", f"no Argos package translates {source} to {target}"
                )
            self._keep_text_whole(translate)
        try:
            return [route.translate(text) for text in texts]
        except Exception as exc:  # the engine's own errors: a damaged model, a bad token
            raise BackendError("translation", f"Argos {source}-{target}: {exc}") from exc

    @staticmethod
    def _keep_text_whole(translate: Any) -> None:
        # Also for packages loaded before _argos replaced the splitters (none, normally).
        for installed in translate.installed_translates:
            underlying = installed.cached_translation.underlying
            if not isinstance(underlying.sentencizer, _WholeText):
                underlying.sentencizer = _WholeText(underlying.pkg)

    def install(self, path: Path) -> list[PairInfo]:
        """Install an ``.argosmodel`` file offline, check that it loads and translates.

        The check is a translation through :meth:`translate`, as a session makes it,
        with the network refused.
        """
        top = _check_archive(path)
        package, _, translate = _argos(self._dir, self._threads)
        destination = self._dir / top
        shutil.rmtree(destination, ignore_errors=True)
        try:
            package.install_from_path(path)
            installed = package.Package(destination)
            self._check_tokenizer(installed)
            translate.installed_translates.clear()
            if installed.type == "translate":
                with network_refused():
                    self.check(installed.from_code, installed.to_code)
        except Exception as exc:
            shutil.rmtree(destination, ignore_errors=True)
            translate.get_installed_languages.cache_clear()
            translate.installed_translates.clear()
            raise InputError(f"{path} does not load as an Argos package: {exc}") from exc
        translate.installed_translates.clear()
        return [
            p
            for p in self.pairs()
            if p.detail.startswith("Argos package")
            and (p.source, p.target) == (installed.from_code, installed.to_code)
        ]

    def check(self, source: str, target: str) -> None:
        """Translate a probe from ``source`` to ``target``: a damaged model fails here.

        Raises:
            BackendError: the package does not load or does not translate.
        """
        (translated,) = self.translate([_PROBE], source, target)
        if not isinstance(translated, str):
            raise BackendError("translation", f"Argos {source}-{target} returned no text")

    @staticmethod
    def _check_tokenizer(installed: Any) -> None:
        """A tokenizer from another model translates into nonsense: refuse it at install."""
        model_dir = installed.package_path / "model"
        sentencepiece = installed.package_path / "sentencepiece.model"
        vocabulary = _model_vocabulary(model_dir)
        if sentencepiece.is_file() and vocabulary:
            import sentencepiece as spm

            processor = spm.SentencePieceProcessor(model_file=str(sentencepiece))
            pieces = {processor.id_to_piece(i) for i in range(processor.get_piece_size())}
            shared = len(pieces & vocabulary) / max(1, len(pieces))
            if shared < 0.9:
                raise ValueError(
                    f"its tokenizer does not match its model (only {shared:.0%} of the "
                    f"SentencePiece pieces are in the model's vocabulary)"
                )

    def close(self) -> None:
        pass


# Digits and Latin letters: every source language's tokenizer has pieces for them.
_PROBE = "OK 1 2 3."


def _model_vocabulary(model_dir: Path) -> set[str]:
    """The source vocabulary of a CTranslate2 model, whichever file it is stored in."""
    for name in ("shared_vocabulary", "source_vocabulary"):
        as_json, as_text = model_dir / f"{name}.json", model_dir / f"{name}.txt"
        if as_json.is_file():
            return set(json.loads(as_json.read_text(encoding="utf-8")))
        if as_text.is_file():
            return set(as_text.read_text(encoding="utf-8").splitlines())
    return set()


def install_folder(models_dir: Path, folder: Path, threads: int = 1) -> list[PairInfo]:
    """Install every ``.argosmodel`` in ``folder`` (a venue's copied-in packages)."""
    files = sorted(folder.glob("*.argosmodel"))
    if not files:
        raise InputError(f"{folder} holds no .argosmodel files")
    backend = ArgosTranslator(models_dir, threads)
    installed: list[PairInfo] = []
    for file in files:
        installed.extend(backend.install(file))
    return installed

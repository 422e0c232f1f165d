"""Apertium, rule-based translation from Debian's packages, kept warm.

``apertium eng-spa`` starts a pipeline of about a dozen programs, 0.1 s every call.
Instead each pair runs its pipeline once, in null-flush mode: a sentence is written
followed by ``\\0``, and every program flushes its output when it sees it, so the
translation comes back in milliseconds.  Text enters the pipeline in Apertium's stream
format, where ``^ $ / < > [ ] { } @ * # + ~ \\`` are escaped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from ..errors import BackendError
from .base import PairInfo

logger = logging.getLogger(__name__)

# Apertium names some languages with three letters; the rest of interp uses ISO 639-1.
_ISO_639_1 = {
    "eng": "en", "spa": "es", "cat": "ca", "fra": "fr", "por": "pt", "ita": "it",
    "glg": "gl", "ron": "ro", "oci": "oc", "eus": "eu", "epo": "eo", "rus": "ru",
    "ukr": "uk", "isl": "is", "mkd": "mk", "ast": "ast", "arg": "an", "nob": "nb",
    "nno": "nn", "swe": "sv", "dan": "da", "bul": "bg", "bel": "be",
}  # fmt: skip
_MODE = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})$")
_SPECIAL = re.compile(r"([\\\[\]^$/<>@{}*#+~])")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_TIMEOUT_S = 20.0


def modes_dir() -> Path | None:
    """Where the installed language pairs' mode files are, or ``None`` without Apertium."""
    apertium = shutil.which("apertium")
    if apertium is None or shutil.which("apertium-wblank-mode") is None:
        return None
    directory = (
        Path(
            os.environ.get("APERTIUM_DATADIR", Path(apertium).parent.parent / "share" / "apertium")
        )
        / "modes"
    )
    return directory if directory.is_dir() else None


def installed_modes(directory: Path | None = None) -> dict[tuple[str, str], str]:
    """``{(source, target): mode}`` for every plain ``xx-yy`` mode installed."""
    directory = directory or modes_dir()
    if directory is None:
        return {}
    found: dict[tuple[str, str], str] = {}
    for path in sorted(directory.glob("*.mode")):
        match = _MODE.match(path.stem)
        if match:
            source, target = (_ISO_639_1.get(code, code) for code in match.groups())
            found.setdefault((source, target), path.stem)
    return found


class _Pipeline:
    """One warm Apertium pipeline for one mode, used from one thread at a time."""

    def __init__(self, mode_file: Path) -> None:
        script = subprocess.run(
            ["apertium-wblank-mode", "-z", str(mode_file)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        # $1 is the generator's option: -n writes unknown words without a '*'.
        self._process = subprocess.Popen(
            ["bash", "-c", script, "apertium", "-n"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: close() ends every stage
        )
        self._lock = threading.Lock()

    def translate(self, text: str) -> str:
        assert self._process.stdin is not None and self._process.stdout is not None
        # A blank before the flush lets every stage see the end of the last word.
        payload = _SPECIAL.sub(r"\\\1", " ".join(text.split())) + "\n\0"
        with self._lock:
            self._process.stdin.write(payload.encode("utf-8"))
            self._process.stdin.flush()
            out = bytearray()
            fd = self._process.stdout.fileno()
            while not out.endswith(b"\0"):
                ready, _, _ = select.select([fd], [], [], _TIMEOUT_S)
                chunk = os.read(fd, 65536) if ready else b""
                if not chunk:
                    raise BrokenPipeError("the Apertium pipeline stopped answering")
                out += chunk
        text = _ESCAPED.sub(r"\1", out[:-1].decode("utf-8", errors="replace"))
        return " ".join(text.split())  # a dropped word leaves two blanks ("Nosotros  resume")

    @property
    def pid(self) -> int:
        return self._process.pid

    def close(self) -> None:
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            # Closing stdin flushes what is buffered into a pipe whose reader has died
            # (BrokenPipeError); stdout must be closed all the same.
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


class ApertiumTranslator:
    """The installed Apertium pairs; each pipeline starts on first use and stays up."""

    name = "apertium"

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = directory or modes_dir()
        self._modes = installed_modes(self._dir)
        self._pipelines: dict[str, _Pipeline] = {}
        self._lock = threading.Lock()

    def pairs(self) -> list[PairInfo]:
        return [
            PairInfo(source, target, self.name, f"Apertium mode {mode}")
            for (source, target), mode in sorted(self._modes.items())
        ]

    def _pipeline(self, source: str, target: str) -> _Pipeline:
        mode = self._modes.get((source, target))
        if mode is None or self._dir is None:
            raise BackendError("translation", f"Apertium has no {source}-{target} pair installed")
        with self._lock:
            if mode not in self._pipelines:
                self._pipelines[mode] = _Pipeline(self._dir / f"{mode}.mode")
            return self._pipelines[mode]

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        results = []
        for text in texts:
            try:
                results.append(self._pipeline(source, target).translate(text))
            except (OSError, subprocess.SubprocessError) as exc:
                self._restart(source, target)
                raise BackendError("translation", f"Apertium {source}-{target}: {exc}") from exc
        return results

    def _restart(self, source: str, target: str) -> None:
        """Drop a broken pipeline; the next sentence starts a fresh one."""
        mode = self._modes.get((source, target), "")
        with self._lock:
            pipeline = self._pipelines.pop(mode, None)
        if pipeline is not None:
            pipeline.close()

    def close(self) -> None:
        with self._lock:
            pipelines, self._pipelines = list(self._pipelines.values()), {}
        for pipeline in pipelines:
            pipeline.close()

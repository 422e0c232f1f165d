"""A real ``interp serve`` for the end-to-end tests, and waits that end on events.

Every wait has one :class:`~tests.deadlines.Deadline` (scaled by
``INTERP_TESTS_TIMEOUT_FACTOR``) that does not restart when an unrelated message comes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from playwright.sync_api import Page
from websockets.sync.client import ClientConnection, connect

from interp.config import SAMPLE_RATE

from ..deadlines import Deadline, scaled

ROOT = Path(__file__).resolve().parents[2]
RECORDING = ROOT / "interp" / "data" / "demo" / "fleurs_en_concat.ogg"
DEMO_OPTIONS = ("--source", str(RECORDING), "--targets", "es,fr", "--token", "e2e-token")
SERVER_START_S = 60.0
"""Loading the speech model and the translation packages, on an unloaded machine."""
STOP_S = 60.0
"""Ending the session: the pass under way finishes first, then the archive is flushed."""
_LOGS: dict[int, Path] = {}
CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium, which the set-up command installs; Playwright downloads nothing."""
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
"""Without the background-networking flags Chromium keeps reaching for the internet."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ms(seconds: float) -> float:
    """A Playwright ``timeout`` (milliseconds) of ``scaled(seconds)``."""
    return scaled(seconds) * 1000


def _take_ctrl_c() -> None:
    """In the server, before it starts: SIGINT stops it, as Ctrl-C does.

    A shell starts background jobs with SIGINT ignored, and the server would inherit
    that from the test run; :func:`stop_server` needs it to stop cleanly.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_server(port: int, tmp: Path, *options: str) -> subprocess.Popen[bytes]:
    """``interp serve`` on loopback (English floor), returned once it listens.

    Its messages go to a file in ``tmp``: a pipe nobody reads would stall it once full.
    The archive is ``tmp / "archive.sqlite"``, shared by every server of one test.
    """
    log = tmp / f"server-{port}-{time.monotonic_ns()}.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "interp", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--language", "en", "--quiet", "--archive", str(tmp / "archive.sqlite"),
             *(options or DEMO_OPTIONS)],
            stderr=handle, cwd=ROOT, preexec_fn=_take_ctrl_c,
            env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # SIGABRT prints every stack
        )  # fmt: skip
    _LOGS[process.pid] = log
    deadline = Deadline(SERVER_START_S)
    while "serving on" not in log.read_text():
        if process.poll() is not None or deadline.expired:
            process.kill()
            process.wait()
            raise AssertionError(
                f"the server did not start within {deadline.allowed:.0f} s: {log.read_text()}"
            )
        time.sleep(0.05)  # the log file offers no event; the deadline bounds the wait
    return process


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop as Ctrl-C does: the session ends and the archive writer flushes.

    (SIGTERM does the same; ``tests/faults/test_sigterm.py`` checks it.)  A server
    that does not stop is made to print where each of its threads stands.
    """
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=scaled(STOP_S))
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        try:
            process.wait(timeout=scaled(10))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log = _LOGS[process.pid].read_text()
        raise AssertionError(f"the server did not stop on Ctrl-C: {log[-12000:]}") from None


def captions(port: int, lang: str = "source") -> ClientConnection:
    return connect(f"ws://127.0.0.1:{port}/ws/captions?lang={lang}", max_size=None)


def receive_until(
    socket_: ClientConnection,
    done: Callable[[dict[str, Any], list[dict[str, Any]]], bool],
    seconds: float,
    what: str,
) -> list[dict[str, Any]]:
    """Every message until ``done(message, so_far)`` holds, all within one deadline."""
    deadline = Deadline(seconds)
    received: list[dict[str, Any]] = []
    while True:
        try:
            message = json.loads(socket_.recv(timeout=deadline.remaining()))
        except TimeoutError:
            kinds = [m["type"] for m in received]
            raise AssertionError(
                f"not within {deadline.allowed:.0f} s: {what} (received {kinds[-20:]})"
            ) from None
        received.append(message)
        if done(message, received):
            return received


def finals(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] in ("final", "translation")]


def load_pcm(path: Path, trailing_silence_s: float = 2.0) -> bytes:
    """A recording as s16le PCM, with the pause after speech that ends an utterance."""
    from interp.audio.pcm import float32_to_int16
    from interp.audio.source import decode_file

    speech = decode_file(path)
    silence = np.zeros(int(SAMPLE_RATE * trailing_silence_s), dtype=np.float32)
    return float32_to_int16(np.concatenate([speech, silence]))


class RealTimePusher(threading.Thread):
    """A floor device: pushes PCM to ``/ws/audio`` at the pace it was spoken.

    Each 0.2 s frame goes out when its time comes on a schedule fixed at the start,
    so a slow send does not push the rest later.
    """

    FRAME_BYTES = 2 * SAMPLE_RATE // 5

    def __init__(self, port: int, token: str, pcm: bytes) -> None:
        super().__init__(name="floor-device", daemon=True)
        self.url = f"ws://127.0.0.1:{port}/ws/audio"
        self.token, self.pcm = token, pcm
        self.error: BaseException | None = None
        self.sent_s = 0.0

    def run(self) -> None:
        try:
            headers = {"Authorization": f"Bearer {self.token}"}
            with connect(self.url, additional_headers=headers) as device:
                began = time.monotonic()
                for start in range(0, len(self.pcm), self.FRAME_BYTES):
                    due = began + start / (2 * SAMPLE_RATE)
                    time.sleep(max(0.0, due - time.monotonic()))
                    frame = self.pcm[start : start + self.FRAME_BYTES]
                    device.send(frame)
                    self.sent_s += len(frame) / (2 * SAMPLE_RATE)
        except BaseException as exc:  # reported by finish() on the test's thread
            self.error = exc

    def finish(self) -> None:
        """Wait for the last frame (the audio's own length, scaled, plus a margin)."""
        self.join(scaled(len(self.pcm) / (2 * SAMPLE_RATE) + 30))
        assert not self.is_alive(), "the floor device did not finish pushing"
        if self.error is not None:
            raise self.error


def lies_within(box: Mapping[str, float], size: Mapping[str, int] | None) -> bool:
    """Whether a bounding box lies wholly inside a viewport of ``size``."""
    assert size is not None, "the page has no viewport"
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def in_viewport(page: Page, selector: str) -> bool:
    """Whether the last element matching ``selector`` lies wholly inside the viewport."""
    box = page.locator(selector).last.bounding_box()
    assert box is not None, selector
    return lies_within(box, page.viewport_size)


def caption_rows(page: Page, container: str) -> list[tuple[str, str]]:
    """``(segment, text)`` of every final line a caption container shows, in order."""
    rows = page.eval_on_selector_all(
        f"{container} .line.final",
        "lines => lines.map(p => [p.dataset.segment, p.querySelector('.text').textContent])",
    )
    return [(str(segment), str(text)) for segment, text in rows]

"""End to end: ``interp serve`` with the real pipeline, read in Debian's Chromium.

Playwright drives ``/usr/bin/chromium`` (installed by the set-up command); nothing is
downloaded.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
RECORDING = ROOT / "interp" / "data" / "demo" / "fleurs_en_concat.ogg"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


DEMO_OPTIONS = ("--source", str(RECORDING), "--targets", "es,fr", "--token", "e2e-token")


def start_server(port: int, tmp: Path, *options: str) -> subprocess.Popen[bytes]:
    """``interp serve`` on loopback (English floor), returned once it listens.

    Its messages go to a file in ``tmp``: a pipe nobody reads would stall it once full.
    """
    log = tmp / f"server-{port}-{time.monotonic_ns()}.log"
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "interp", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--language", "en", "--quiet", "--archive", str(tmp / "archive.sqlite"),
             *(options or DEMO_OPTIONS)],
            stderr=handle, cwd=ROOT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while "serving on" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the server did not start: {log.read_text()}")
        time.sleep(0.2)
    return process


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture()
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: run the README's set-up command")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


def test_captions_in_two_languages_and_resume_after_a_restart(
    browser: object, tmp_path: Path
) -> None:
    port = free_port()
    server = start_server(port, tmp_path)
    try:
        spanish = browser.new_page()  # type: ignore[attr-defined]
        french = browser.new_page()  # type: ignore[attr-defined]
        spanish.goto(f"http://127.0.0.1:{port}/?lang=es")
        french.goto(f"http://127.0.0.1:{port}/?lang=fr")
        spanish.wait_for_selector("#captions .line.final", timeout=60_000)
        french.wait_for_selector("#captions .line.final", timeout=60_000)
        es_text = spanish.inner_text("#captions .line.final .text")
        fr_text = french.inner_text("#captions .line.final .text")
        assert es_text and fr_text and es_text != fr_text
        assert spanish.get_attribute("#captions .line.final", "lang") == "es"
        assert "live" in spanish.inner_text("#state")

        # The server goes away and comes back on the same port: the page notices,
        # reconnects by itself and shows the new session's captions.
        stop_server(server)
        spanish.wait_for_function(
            "document.getElementById('state').textContent.includes('reconnecting')", timeout=15_000
        )
        before = spanish.locator("#captions .line.final").count()
        server = start_server(port, tmp_path)
        spanish.wait_for_function(
            "document.getElementById('state').textContent.includes('live')", timeout=30_000
        )
        spanish.wait_for_function(
            f"document.querySelectorAll('#captions .line.final').length > {before}", timeout=60_000
        )
    finally:
        stop_server(server)


def test_interpreter_and_operator_pages(browser: object, tmp_path: Path) -> None:
    port = free_port()
    server = start_server(port, tmp_path)
    try:
        operator = browser.new_page()  # type: ignore[attr-defined]
        operator.goto(f"http://127.0.0.1:{port}/operator")
        operator.fill("#token", "e2e-token")
        operator.click("#connect")
        operator.wait_for_function(
            "document.getElementById('state').textContent.includes('connected')"
        )
        operator.fill("#speaker", "Delegate of Cambodia")
        operator.click("#set-speaker")
        operator.wait_for_function(
            "document.getElementById('s-floor').textContent.includes('Cambodia')"
        )
        assert re.search(r"\d", operator.inner_text("#s-listeners"))

        interpreter = browser.new_page()  # type: ignore[attr-defined]
        interpreter.goto(f"http://127.0.0.1:{port}/interpreter?lang=es")
        interpreter.wait_for_selector("#source .line.final", timeout=60_000)
        interpreter.wait_for_selector("#target .line.final", timeout=60_000)
        assert "Cambodia" in interpreter.inner_text("#source .line.final .meta")
    finally:
        stop_server(server)


def test_pcm_pushed_over_the_audio_socket_is_captioned(tmp_path: Path) -> None:
    """A floor device pushes s16le PCM to /ws/audio; listeners read the captions."""
    import asyncio
    import json

    import numpy as np
    from websockets.asyncio.client import connect

    from interp.audio.pcm import float32_to_int16
    from interp.audio.source import decode_file

    port = free_port()
    process = start_server(port, tmp_path, "--source", "ws", "--token", "e2e-token")
    speech = decode_file(ROOT / "tests" / "data" / "jfk.flac")
    audio = float32_to_int16(np.concatenate([speech, np.zeros(16_000 * 2, dtype=np.float32)]))

    async def scenario() -> str:
        base = f"ws://127.0.0.1:{port}"
        async with connect(f"{base}/ws/captions?lang=source") as captions:
            async with connect(f"{base}/ws/audio", additional_headers={
                    "Authorization": "Bearer e2e-token"}) as device:  # fmt: skip
                for start in range(0, len(audio), 3200):
                    await device.send(audio[start : start + 3200])
                    await asyncio.sleep(0.02)  # faster than real time, as a buffer would
                heard = []
                while True:
                    message = json.loads(await asyncio.wait_for(captions.recv(), 60))
                    if message["type"] == "final":
                        heard.append(message["text"])
                        if "country" in " ".join(heard).lower():
                            return " ".join(heard)

    try:
        text = asyncio.run(scenario())
        assert "fellow americans" in text.lower()
    finally:
        stop_server(process)


def test_archivist_finds_a_passage_and_downloads_every_format(
    browser: object, tmp_path: Path
) -> None:
    import json
    import urllib.request

    port = free_port()
    recording = str(ROOT / "tests" / "data" / "jfk.flac")
    process = start_server(
        port, tmp_path, "--source", recording, "--speed", "2", "--targets", "es", "--token", "t"
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        sessions: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"{base}/api/sessions") as answer:
                    sessions = json.load(answer)
            except OSError:
                continue
            if sessions and sessions[0]["state"] == "ended":
                break
        assert sessions and sessions[0]["state"] == "ended", sessions
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(f"{base}/archive")
        page.fill("#q", "country")
        page.click("#search button")
        page.wait_for_selector(".hit mark")
        assert "country" in page.inner_text(".hit mark").lower()
        page.click(".hit a")
        page.wait_for_selector("#transcript .segment.target")
        assert "country" in page.inner_text("#transcript .segment.target").lower()
        assert page.eval_on_selector("#player", "p => p.src").endswith("/audio.ogg")
        for index, fmt in enumerate(["srt", "vtt", "txt", "json", "docx"]):
            with page.expect_download() as download:
                page.click(f"#exports a:nth-child({index + 1})")
            saved = tmp_path / f"export.{fmt}"
            download.value.save_as(saved)
            assert saved.stat().st_size > 0
            if fmt == "srt":
                import srt

                assert any("country" in s.content.lower() for s in srt.parse(saved.read_text()))
            if fmt == "docx":
                from docx import Document

                assert any("country" in p.text.lower() for p in Document(str(saved)).paragraphs)
        with urllib.request.urlopen(
            urllib.request.Request(
                f"{base}/api/sessions/{sessions[0]['id']}/audio.ogg",
                headers={"Range": "bytes=0-99"},
            )
        ) as answer:
            assert answer.status == 206 and len(answer.read()) == 100
    finally:
        stop_server(process)


def test_operator_page_feeds_the_browser_microphone(tmp_path: Path) -> None:
    """The operator page sends the browser's microphone to /ws/audio (a fake device)."""
    import json
    import urllib.request

    from playwright.sync_api import sync_playwright

    port = free_port()
    process = start_server(port, tmp_path, "--source", "ws", "--token", "mic-token")
    try:
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            fake = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS + fake)
            page = browser.new_page()
            page.goto(f"{base}/operator")
            page.fill("#token", "mic-token")
            page.click("#connect")
            page.wait_for_function("!document.getElementById('mic-controls').disabled")
            page.click("#mic")
            page.wait_for_function(
                "document.getElementById('mic-state').textContent.includes('sending')"
            )
            audio = 0.0
            deadline = time.monotonic() + 30
            while audio < 2.0 and time.monotonic() < deadline:
                time.sleep(0.5)
                with urllib.request.urlopen(f"{base}/api/status") as answer:
                    audio = json.load(answer)["audio_s"]
            browser.close()
        assert audio >= 2.0  # seconds of the browser's audio reached the pipeline
    finally:
        stop_server(process)

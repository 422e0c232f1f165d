#!/usr/bin/env python3
"""Screenshots of every page during ``interp demo``: delegate, interpreter, operator, archive.

Runs the demo on a free port with an archive in a temporary folder, lets it caption for
a while, and photographs each page in Debian's Chromium (a tablet-sized window, and the
delegate page on a phone too) into ``docs/screenshots/``.

Usage: scripts/screenshots.py [--wait 40]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--wait", type=float, default=40.0, help="seconds of captions first")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    workdir = tempfile.TemporaryDirectory(prefix="interp-screenshots-")
    demo = subprocess.Popen(
        [sys.executable, "-m", "interp", "demo", "--host", "127.0.0.1", "--port", str(port),
         "--token", "screenshot", "--quiet", "--open-archive",
         "--archive", str(Path(workdir.name) / "archive.sqlite")],
        stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert demo.stderr is not None
    while "serving on" not in demo.stderr.readline():
        if demo.poll() is not None:
            raise SystemExit("the demo did not start")
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            size = {"width": 1024, "height": 700}
            operator = browser.new_page(viewport=size)
            operator.goto(f"{base}/operator")
            operator.fill("#token", "screenshot")
            operator.click("#connect")
            operator.fill("#speaker", "Delegate of Cambodia")
            operator.click("#set-speaker")
            operator.fill("#agenda", "Item 3: the Phnom Penh Declaration")
            operator.click("#set-agenda")
            delegate = browser.new_page(viewport=size)
            delegate.goto(f"{base}/?lang=es")
            interpreter = browser.new_page(viewport=size)
            interpreter.goto(f"{base}/interpreter?lang=fr")
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(f"{base}/?lang=fr")
            time.sleep(args.wait)
            archive = browser.new_page(viewport=size)
            archive.goto(f"{base}/archive")
            archive.fill("#q", "Cambodia")  # the speaker set above: found by one word
            archive.click("#search button")
            archive.wait_for_selector("#results .hit")
            for name, page in (("delegate", delegate), ("interpreter", interpreter),
                               ("operator", operator), ("archive", archive),
                               ("delegate-phone", phone)):  # fmt: skip
                path = args.out / f"{name}.png"
                page.screenshot(path=str(path))
                print(path)
            browser.close()
    finally:
        demo.terminate()
        demo.wait(timeout=30)
        workdir.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

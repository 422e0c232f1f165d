#!/usr/bin/env python3
"""How soon ``interp demo`` shows translated captions in a browser, from its start.

Starts the demo (the command a new user runs), opens the delegate page in Spanish in
Debian's Chromium as soon as the server answers, and times the first translated line
on the page. Repeats a few times and prints each figure and the median.

Usage: scripts/bench_demo_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def one_run(browser: object) -> float:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        demo = subprocess.Popen(
            [sys.executable, "-m", "interp", "demo", "--host", "127.0.0.1", "--port", str(port),
             "--quiet", "--archive", str(Path(tmp) / "archive.sqlite")],
            stderr=subprocess.DEVNULL, cwd=ROOT,
        )  # fmt: skip
        try:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").close()
                    break
                except OSError:
                    time.sleep(0.05)
            page = browser.new_page()  # type: ignore[attr-defined]
            page.goto(f"http://127.0.0.1:{port}/?lang=es")
            page.wait_for_selector("#captions .line.final", timeout=60_000)
            elapsed = time.perf_counter() - began
            page.close()
            return elapsed
        finally:
            demo.terminate()
            demo.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        times = []
        for _ in range(args.runs):
            times.append(one_run(browser))
            print(f"first translated caption in the browser {times[-1]:.1f} s after the start")
        browser.close()
    print(f"median {statistics.median(times):.1f} s over {len(times)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())

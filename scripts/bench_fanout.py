#!/usr/bin/env python3
"""Fan-out benchmark: thousands of caption listeners on loopback while recognition runs.

Starts ``interp serve`` on an English stream of the evaluation set (real pace,
recognition and Spanish translation running), connects N listeners to
``/ws/captions`` from this process, and reports for every final:

* delay from its publication (``published_at``, the server's wall clock) to its
  arrival at each listener: p50 and p99 over all arrivals;
* spread of its arrival across listeners (last − first): median and p99 over finals;
* whether every listener received every final;
* the server's CPU while serving, and its memory per listener (RSS with N
  listeners minus RSS before they connected, over N).

Listeners follow the floor language (finals and partials, as a delegate reading the
original does). They are minimal WebSocket readers, so that the measurement is of the
server and not of thousands of full clients in one Python process.

Usage: scripts/bench_fanout.py [--listeners 1000 2000 5000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
GRACE_S = float(__import__("os").environ.get("BENCH_GRACE_S", "5"))
sys.path.insert(0, str(ROOT))

from interp.evaluation import percentile  # noqa: E402
from interp.server.run import raise_open_files_limit  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(recording: Path, port: int, log: Path) -> subprocess.Popen[str]:
    # The server's messages go to a file: a pipe nobody reads would block it once full.
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "interp", "serve", "--source", str(recording), "--host",
         "127.0.0.1", "--port", str(port), "--language", "en", "--targets", "es",
         "--token", "bench", "--quiet", "--archive", str(log.with_suffix(".sqlite"))],
        stderr=handle, text=True, cwd=ROOT,
    )  # fmt: skip
    while "serving on" not in log.read_text():
        if process.poll() is not None:
            raise SystemExit(f"the server did not start: {log.read_text()}")
        time.sleep(0.2)
    return process


class Listener(asyncio.Protocol):
    """A minimal WebSocket reader: handshake, then unmasked server frames.

    Thousands of full clients in one Python process would measure the client, not
    the server; this one only splits frames and parses finals.
    """

    published: dict[str, float] = {}  # segment → the server's publication time

    def __init__(self, path: str, arrivals: dict[str, float]) -> None:
        self.path, self.arrivals = path, arrivals
        self.buffer = bytearray()
        self.upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            del self.buffer[: end + 4]
            self.upgraded = True
        while len(self.buffer) >= 2:
            length, offset = self.buffer[1] & 0x7F, 2
            if length == 126:
                length, offset = int.from_bytes(self.buffer[2:4], "big"), 4
            elif length == 127:
                length, offset = int.from_bytes(self.buffer[2:10], "big"), 10
            if len(self.buffer) < offset + length:
                return
            opcode = self.buffer[0] & 0x0F
            payload = bytes(self.buffer[offset : offset + length])
            del self.buffer[: offset + length]
            if opcode == 0x9:  # ping: answer, or the server drops this listener as dead
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\x00" * 4 + payload)
            elif b'"type":"final"' in payload:
                message = json.loads(payload)
                self.published.setdefault(message["segment"], message["published_at"])
                self.arrivals.setdefault(message["segment"], now - message["published_at"])


async def listen(port: int, path: str, arrivals: dict[str, float]) -> asyncio.Transport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(lambda: Listener(path, arrivals), "127.0.0.1", port)
    return transport


async def run(listeners: int, seconds: float, recording: Path) -> dict[str, Any]:
    port = free_port()
    Listener.published.clear()
    log = ROOT / "bench-results" / f"fanout-server-{listeners}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    server = start_server(recording, port, log)
    proc = psutil.Process(server.pid)
    try:
        await asyncio.sleep(2)
        rss_before = proc.memory_info().rss
        arrivals: list[dict[str, float]] = [{} for _ in range(listeners)]
        path = "/ws/captions?lang=en"
        transports = []
        began_connect = time.perf_counter()
        for start in range(0, listeners, 250):
            transports += await asyncio.gather(
                *(
                    listen(port, path, arrivals[i])
                    for i in range(start, min(listeners, start + 250))
                )
            )
        connect_s = time.perf_counter() - began_connect
        await asyncio.sleep(3)
        rss_with = proc.memory_info().rss
        cpu_before, wall_before = proc.cpu_times(), time.perf_counter()
        window = (time.time(), time.time() + seconds)
        await asyncio.sleep(seconds)
        cpu_after, wall = proc.cpu_times(), time.perf_counter() - wall_before
        await asyncio.sleep(GRACE_S)  # a final published at the very end still reaches everyone
        for transport in transports:
            transport.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    # Finals published while every listener was connected: not history, not the cut-off.
    segments = sorted(
        (seg for seg, at in Listener.published.items() if window[0] <= at <= window[1]),
        key=lambda seg: Listener.published[seg],
    )
    delays = [per[seg] for per in arrivals for seg in segments if seg in per]
    spreads = []
    complete = 0
    per_final = {}
    for segment in segments:
        times = [per[segment] for per in arrivals if segment in per]
        complete += len(times) == listeners
        spreads.append(max(times) - min(times))
        per_final[segment] = {
            "received_by": len(times),
            "first_ms": round(min(times) * 1000, 1),
            "last_ms": round(max(times) * 1000, 1),
        }
    cpu = (cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system) / wall
    return {
        "listeners": listeners,
        "connect_s": round(connect_s, 1),
        "finals": len(segments),
        "finals_received_by_every_listener": complete,
        "delay_ms_p50": round(percentile(delays, 0.5) * 1000, 1),
        "delay_ms_p99": round(percentile(delays, 0.99) * 1000, 1),
        "spread_ms_median": round(statistics.median(spreads) * 1000, 1) if spreads else None,
        "spread_ms_p99": round(percentile(spreads, 0.99) * 1000, 1),
        "server_cpu_percent": round(cpu * 100, 1),
        "server_rss_mb": round(rss_with / 1e6, 1),
        "kb_per_listener": round((rss_with - rss_before) / listeners / 1000, 1),
        "per_final": per_final,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--listeners", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "fanout.json")
    args = parser.parse_args(argv)
    raise_open_files_limit()
    recording = args.eval_dir / "speech" / "longform_concat_fleurs" / "fleurs_en_concat.wav"
    results = []
    for count in args.listeners:
        result = asyncio.run(run(count, args.seconds, recording))
        print(json.dumps(result), flush=True)
        results.append(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

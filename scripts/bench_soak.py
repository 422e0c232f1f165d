#!/usr/bin/env python3
"""Soak of the real server: ``interp serve`` with translation, archive, recorder and listeners.

Builds a long English recording by joining the demo recording (FLEURS sentences) end to
end, with a second of silence between copies, long enough for the whole run.  Starts
``interp serve`` on it as a subprocess (real pace, recognition, translation into
``--targets`` through the installed engines, the SQLite archive and the Opus recorder in
a temporary folder) and connects ``--listeners`` WebSocket clients to
``/ws/captions``, spread in turn over the floor (finals, any language) and each target
(its translations).  Every minute it prints:

* caption lag: the listener's wall clock when a caption (a final or a translation)
  arrives minus the server's ``published_at`` on it, median and p95 over every arrival
  at every listener in that minute (captions replayed from history on joining are left
  out): what fan-out adds;
* final latency: ``emitted_at - end`` of each final (seconds of session audio, so what
  recognition adds), median and p95 over that minute's finals, and the largest
  recognition ``lag`` the server's status messages reported in it;
* translation latency, per target: ``emitted_at - end`` of each translation (the same
  clock: how long after the end of its final's speech a translation is out), median
  and p95 over that minute's translations;
* the server's RSS (``VmRSS`` in ``/proc/PID/status``) and its open files (the entries
  of ``/proc/PID/fd``);
* per stream (floor finals, each target's translations): how many the archive holds,
  and the fewest and most any listener of that stream has received.

At the end the server gets SIGTERM (a graceful stop: the last utterance is finalised,
translated and archived), and once it has exited the archive is read again.  Lost
captions, per stream: those in the archive that some listener of the stream did not
receive, plus those some listener received that the archive does not hold.  RSS growth
is the RSS at the last minute minus the RSS at the first; the lag trend is the
least-squares slope of the per-minute median lag.  Exit status 1 when anything was
lost, the RSS grew by 50 MB or more, a listener was disconnected, or the server did not
exit cleanly.

The summary adds the whole run's final and translation latencies (median, p95, max)
and the least-squares slope of the per-minute largest lag (lag flat: near 0 s/min).

Usage: scripts/bench_soak.py [--minutes 30] [--listeners 200] [--targets es,fr]
       [--recording FILE --language xx]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from interp.archive.store import Archive  # noqa: E402
from interp.audio.source import decode_file  # noqa: E402
from interp.config import SAMPLE_RATE  # noqa: E402
from interp.errors import ArchiveError  # noqa: E402
from interp.evaluation import percentile  # noqa: E402

DEMO_RECORDING = ROOT / "interp" / "data" / "demo" / "fleurs_en_concat.ogg"
FLOOR = "floor"
"""The stream of the listeners that follow the floor: its finals, in any language."""
RSS_GROWTH_LIMIT_MB = 50.0
START_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 120.0

Key = tuple[str, str]
"""A caption's (session, segment)."""


def long_recording(source: Path, seconds: float, out: Path) -> float:
    """``source`` again and again with a second of silence between, as 16-bit WAV."""
    samples = decode_file(source)
    gap = np.zeros(SAMPLE_RATE, dtype=np.float32)
    piece = (np.clip(np.concatenate([samples, gap]), -1.0, 1.0) * 32767).astype("<i2").tobytes()
    copies = max(1, int(np.ceil(seconds * SAMPLE_RATE / (len(samples) + len(gap)))))
    with wave.open(str(out), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(SAMPLE_RATE)
        for _ in range(copies):
            handle.writeframes(piece)
    return copies * (len(samples) + len(gap)) / SAMPLE_RATE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Listener:
    stream: str
    """``FLOOR`` or a target language."""
    heard: set[Key] = field(default_factory=set)
    errors: int = 0
    primary: bool = False
    """The first listener of its stream: its finals, translations and status messages
    give the latency figures."""
    closed: str | None = None
    """Why the connection ended before the server was asked to stop."""


@dataclass
class Soak:
    port: int
    lags: list[float] = field(default_factory=list)
    """This minute's caption lags, seconds; emptied each minute."""
    latencies: list[float] = field(default_factory=list)
    """This minute's final latencies (``emitted_at - end``), seconds."""
    server_lags: list[float] = field(default_factory=list)
    """This minute's recognition lags from the status messages, seconds."""
    translation_latencies: dict[str, list[float]] = field(default_factory=dict)
    """This minute's translation latencies per target (``emitted_at - end``), seconds."""
    stopping: bool = False


async def listen(soak: Soak, listener: Listener) -> None:
    query = "" if listener.stream == FLOOR else f"?lang={listener.stream}"
    joined = time.time()
    try:
        async with connect(
            f"ws://127.0.0.1:{soak.port}/ws/captions{query}", max_size=None, open_timeout=60
        ) as connection:
            async for raw in connection:
                arrived = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "error":
                    listener.errors += 1
                    continue
                if listener.primary:
                    if kind == "status" and listener.stream == FLOOR and message.get("lag"):
                        soak.server_lags.append(float(message["lag"]))
                    if kind == "final" and message.get("emitted_at") is not None:
                        if listener.stream == FLOOR:
                            soak.latencies.append(message["emitted_at"] - message["end"])
                    if kind == "translation" and message.get("lang") == listener.stream:
                        soak.translation_latencies.setdefault(listener.stream, []).append(
                            message["emitted_at"] - message["end"]
                        )
                if listener.stream == FLOOR:
                    if kind != "final":
                        continue
                elif kind not in ("final", "translation") or message.get("lang") != listener.stream:
                    continue  # a final spoken in the target stands in for its translation
                key = (message["session"], message["segment"])
                if key in listener.heard:
                    continue
                listener.heard.add(key)
                published = message.get("published_at")
                if published is not None and published >= joined:
                    soak.lags.append(arrived - published)
    except (ConnectionClosed, InvalidHandshake, OSError) as exc:
        if not soak.stopping:
            listener.closed = f"{type(exc).__name__}: {exc}"
        return
    if not soak.stopping:
        listener.closed = "closed by the server"


def archived(path: Path, streams: list[str]) -> dict[str, set[Key]]:
    """Every stream's captions the archive holds (read-only, on a thread of its own)."""
    held: dict[str, set[Key]] = {stream: set() for stream in streams}
    try:
        archive = Archive(path, readonly=True)
    except ArchiveError:
        return held  # nothing written yet
    try:
        for entry in archive.sessions():
            session = entry["id"]
            for stream in streams:
                lang = None if stream == FLOOR else stream
                held[stream] |= {
                    (session, m.segment or "") for m in archive.transcript(session, lang)
                }
    finally:
        archive.close()
    return held


def records_made(path: Path) -> dict[str, Any]:
    """How many finals the record pass recorded by the end, how late, and how many it changed.

    Its lateness is ``emitted_at - end`` of each floor record: seconds of session audio
    between the end of a final's speech and its record.
    """
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        finals = db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
        rows = db.execute(
            "SELECT r.emitted_at - s.end, r.text != s.text FROM records r JOIN segments s"
            " ON s.session = r.session AND s.segment = r.segment AND s.lang = r.lang"
        ).fetchall()
        translated = db.execute(
            "SELECT COUNT(*) FROM records r JOIN segments s ON s.session = r.session"
            " AND s.segment = r.segment AND s.lang != r.lang"
        ).fetchone()[0]
    finally:
        db.close()
    return {
        "finals": finals,
        "recorded": len(rows),
        "changed": sum(1 for _, changed in rows if changed),
        "translations_of_records": translated,
        "record_latency_s": spread([late for late, _ in rows if late is not None]),
    }


def proc_status(pid: int) -> tuple[float, int]:
    """The process's RSS in MB (10^6 bytes) and its number of open files."""
    rss_kb = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    return rss_kb * 1024 / 1e6, len(os.listdir(f"/proc/{pid}/fd"))


def spread(values: list[float]) -> dict[str, float] | None:
    """Median, p95 and max of a run's latencies, seconds."""
    if not values:
        return None
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values), 2),
    }


def trend(points: list[tuple[int, float | None]]) -> float | None:
    """Least-squares slope of a per-minute figure, per minute (None under two points)."""
    known = [(x, float(y)) for x, y in points if y is not None]
    if len(known) < 2:
        return None
    return round(statistics.linear_regression(*zip(*known, strict=True)).slope, 3)


def heard_range(listeners: list[Listener], stream: str) -> tuple[int, int]:
    counts = [len(listener.heard) for listener in listeners if listener.stream == stream]
    return min(counts), max(counts)


async def wait_for_start(server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while "serving on" not in log.read_text(errors="replace"):
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')}")
        await asyncio.sleep(0.2)


async def soak(args: argparse.Namespace, workdir: Path) -> int:
    targets = [code.strip() for code in args.targets.split(",") if code.strip()]
    streams = [FLOOR, *targets]
    recording = workdir / "soak.wav"
    # A minute more than the run, so that the source is still speaking at the end.
    length_s = long_recording(args.recording, args.minutes * 60 + 60, recording)
    archive_path = workdir / "archive.sqlite"
    log = workdir / "server.log"
    port = free_port()
    env = {**os.environ, "XDG_CONFIG_HOME": str(workdir), "XDG_DATA_HOME": str(workdir)}
    with log.open("wb") as log_handle:
        # The server's output goes to a file: a pipe nobody reads would block it once full.
        server = subprocess.Popen(
            [sys.executable, "-m", "interp", "serve", "--source", str(recording),
             "--host", "127.0.0.1", "--port", str(port), "--language", args.language,
             "--targets", ",".join(targets), "--token", "soak", "--open-archive", "--quiet",
             "--archive", str(archive_path)],
            stdout=log_handle, stderr=log_handle, cwd=ROOT, env=env,
        )  # fmt: skip
    state = Soak(port)
    listeners = [Listener(streams[i % len(streams)]) for i in range(args.listeners)]
    for stream in streams:  # the first listener of each stream
        next(x for x in listeners if x.stream == stream).primary = True
    tasks: list[asyncio.Task[None]] = []
    rows: list[dict[str, Any]] = []
    whole_run: list[tuple[list[float], dict[str, list[float]]]] = []
    """Each minute's final latencies and translation latencies per target."""
    try:
        await wait_for_start(server, log)
        print(
            f"soak: interp serve (pid {server.pid}) on {length_s / 60:.1f} min of audio from "
            f"{args.recording.name}, {args.language} → {','.join(targets)}, archive and "
            f"recorder in {workdir}; {args.listeners} listeners "
            + ", ".join(f"{sum(x.stream == s for x in listeners)} {s}" for s in streams),
            flush=True,
        )
        tasks = [asyncio.create_task(listen(state, listener)) for listener in listeners]
        print(
            "minute  lag p50 ms  lag p95 ms  final latency p50/p95 s  status lag max s  "
            "translation latency p50/p95 s  RSS MB  open files  "
            "captions archived / heard by listeners (fewest-most)  disconnected",
            flush=True,
        )
        loop = asyncio.get_running_loop()
        began = loop.time()
        for minute in range(1, args.minutes + 1):
            await asyncio.sleep(max(0.0, began + 60 * minute - loop.time()))
            if server.poll() is not None:
                print(f"soak: the server exited early, status {server.returncode}", flush=True)
                break
            lags, state.lags = state.lags, []
            latencies, state.latencies = state.latencies, []
            server_lags, state.server_lags = state.server_lags, []
            translated, state.translation_latencies = state.translation_latencies, {}
            whole_run.append((latencies, translated))
            rss_mb, open_files = proc_status(server.pid)
            held = await asyncio.to_thread(archived, archive_path, streams)
            row: dict[str, Any] = {
                "minute": minute,
                "lag_p50_ms": round(statistics.median(lags) * 1000, 1) if lags else None,
                "lag_p95_ms": round(percentile(lags, 0.95) * 1000, 1) if lags else None,
                "captions": len(lags),
                "latency_p50_s": round(statistics.median(latencies), 2) if latencies else None,
                "latency_p95_s": round(percentile(latencies, 0.95), 2) if latencies else None,
                "status_lag_max_s": round(max(server_lags), 2) if server_lags else None,
                "translation_p50_p95_s": {
                    lang: [round(statistics.median(t), 2), round(percentile(t, 0.95), 2)]
                    for lang, t in sorted(translated.items())
                },
                "rss_mb": round(rss_mb, 1),
                "open_files": open_files,
                "streams": {s: [len(held[s]), *heard_range(listeners, s)] for s in streams},
                "disconnected": sum(x.closed is not None for x in listeners),
            }
            rows.append(row)
            counts = "  ".join(f"{s} {a}/{lo}-{hi}" for s, (a, lo, hi) in row["streams"].items())
            p50, p95 = ("-" if row[k] is None else row[k] for k in ("lag_p50_ms", "lag_p95_ms"))
            latency = f"{row['latency_p50_s']}/{row['latency_p95_s']}"
            translation = " ".join(
                f"{lang} {a}/{b}" for lang, (a, b) in row["translation_p50_p95_s"].items()
            )
            print(
                f"{minute:>6}  {p50:>10}  {p95:>10}  {latency:>23}  "
                f"{row['status_lag_max_s']!s:>16}  {translation or '-':>29}  "
                f"{row['rss_mb']:>6}  {open_files:>10}  "
                f"{counts}  {row['disconnected']}",
                flush=True,
            )
    finally:
        state.stopping = True
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.to_thread(server.wait, STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            server.kill()
            status = await asyncio.to_thread(server.wait)
        # The server closes every connection as it exits; a listener still open is stuck.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
        for task in tasks:
            task.cancel()
    held = archived(archive_path, streams)
    lost_by_stream: dict[str, int] = {}
    for stream in streams:
        mine = [listener.heard for listener in listeners if listener.stream == stream]
        missed = {key for key in held[stream] if any(key not in heard for heard in mine)}
        unarchived = set().union(*mine) - held[stream]
        lost_by_stream[stream] = len(missed) + len(unarchived)
    lost = sum(lost_by_stream.values())
    disconnected = [listener for listener in listeners if listener.closed is not None]
    growth = rows[-1]["rss_mb"] - rows[0]["rss_mb"] if rows else 0.0
    medians = [(r["minute"], r["lag_p50_ms"]) for r in rows if r["lag_p50_ms"] is not None]
    summary = {
        "minutes": len(rows),
        "listeners": args.listeners,
        "archived": {stream: len(held[stream]) for stream in streams},
        "lost": lost_by_stream,
        "translation_errors_heard": sum(listener.errors for listener in listeners),
        "disconnected": len(disconnected),
        "rss_first_mb": rows[0]["rss_mb"] if rows else None,
        "rss_last_mb": rows[-1]["rss_mb"] if rows else None,
        "rss_growth_mb": round(growth, 1),
        "lag_p50_first_last_ms": [medians[0][1], medians[-1][1]] if medians else None,
        "lag_p50_slope_ms_per_minute": trend(medians),
        "final_latency_p50_s_first_last": [rows[0]["latency_p50_s"], rows[-1]["latency_p50_s"]]
        if rows
        else None,
        "status_lag_max_s": max(
            (r["status_lag_max_s"] for r in rows if r["status_lag_max_s"] is not None),
            default=None,
        ),
        "open_files_first_last": [rows[0]["open_files"], rows[-1]["open_files"]] if rows else None,
        "status_lag_max_slope_s_per_minute": trend(
            [(r["minute"], r["status_lag_max_s"]) for r in rows]
        ),
        "final_latency_s": spread([t for minute, _ in whole_run for t in minute]),
        "translation_latency_s": {
            lang: spread([t for _, by_lang in whole_run for t in by_lang.get(lang, [])])
            for lang in targets
        },
        "server_exit_status": status,
        "record_pass": records_made(archive_path),
    }
    print("soak: " + json.dumps(summary), flush=True)
    for listener in disconnected[:5]:
        print(f"soak: a {listener.stream} listener was disconnected: {listener.closed}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"minutes": rows, "summary": summary}, indent=1) + "\n")
    failed = lost > 0 or growth >= RSS_GROWTH_LIMIT_MB or disconnected or status != 0
    if status != 0:
        print(f"soak: the server's log:\n{log.read_text(errors='replace')[-4000:]}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=int, default=30, help="length of the run (default 30)")
    parser.add_argument("--listeners", type=int, default=200, help="caption listeners")
    parser.add_argument("--targets", default="es,fr", help="translation targets")
    parser.add_argument("--language", default="en", help="the floor language of the recording")
    parser.add_argument(
        "--recording", type=Path, default=DEMO_RECORDING, help="the speech joined end to end"
    )
    parser.add_argument("--json", type=Path, help="also write every minute and the summary here")
    args = parser.parse_args(argv)
    if args.minutes < 1 or args.listeners < 1:
        parser.error("--minutes and --listeners must be at least 1")
    with tempfile.TemporaryDirectory(prefix="interp-soak-") as workdir:
        return asyncio.run(soak(args, Path(workdir)))


if __name__ == "__main__":
    sys.exit(main())

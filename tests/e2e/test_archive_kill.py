"""``kill -9`` in the middle of a session: what was committed survives, nothing is skipped.

The README promises a commit at least every quarter of a second, so ``kill -9`` loses at
most the last moment of finals.  The test kills the server right after a final arrives
and asserts what holds without a race: everything a reader saw committed before the
kill is kept, the kept finals are an unbroken run from the start (the lost ones, if
any, are the last), and every final received ``LOSS_BOUND_S`` (scaled) before the kill
is kept.  The session's recording lasts to within ``AUDIO_BEHIND_S`` of the last kept
final.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from interp.archive.store import Archive
from interp.audio.source import decode_file
from interp.config import SAMPLE_RATE

from ..deadlines import Deadline, scaled
from .live import RECORDING, captions, free_port, start_server, stop_server

pytestmark = [pytest.mark.model, pytest.mark.slow]

LOSS_BOUND_S = 1.0
"""The writer's quarter second, plus the commit itself and a busy machine's delays."""
FINALS_BEFORE_KILL = 4
AUDIO_BEHIND_S = 2.0
"""How far the recording may end before the last archived final (its pages are 200 ms)."""


def committed_finals(path: Path) -> dict[str, str]:
    """``{segment: text}`` of the finals another reader sees committed right now."""
    if not path.exists():
        return {}
    reader = Archive(path, readonly=True)
    try:
        return dict(
            reader.db.execute("SELECT segment, text FROM segments").fetchall()  # one session
        )
    finally:
        reader.close()


def get_json(url: str) -> Any:
    # The operator token opens the archive too, whether or not the archive is open.
    request = urllib.request.Request(url, headers={"Authorization": "Bearer t"})
    with urllib.request.urlopen(request, timeout=scaled(30)) as answer:
        return json.load(answer)


def test_kill_9_mid_session_keeps_every_committed_final(tmp_path: Path) -> None:
    archive_path = tmp_path / "archive.sqlite"  # where start_server keeps it
    port = free_port()
    server = start_server(
        port, tmp_path, "--source", str(RECORDING), "--speed", "1.5", "--targets", "es",
        "--token", "t",
    )  # fmt: skip
    bound = scaled(LOSS_BOUND_S)
    received: list[tuple[float, dict[str, Any]]] = []  # (monotonic time of receipt, final)
    try:
        with captions(port) as ws:
            deadline = Deadline(120)
            while True:
                message = json.loads(ws.recv(timeout=deadline.remaining()))
                if message["type"] != "final":
                    continue
                received.append((time.monotonic(), message))
                # Right after a final, once there are a few and the first is older than
                # the bound (so that the bound has something to hold).
                if len(received) >= FINALS_BEFORE_KILL and received[-1][0] - received[0][0] > bound:
                    break
            seen_committed = committed_finals(archive_path)
            os.kill(server.pid, signal.SIGKILL)
            killed_at = time.monotonic()
        assert server.wait(timeout=scaled(10)) == -signal.SIGKILL
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    # The restarted server finds the session cut off, says so, and serves what was kept.
    session = str(received[0][1]["session"])
    port = free_port()
    restarted = start_server(port, tmp_path, "--source", "ws", "--token", "t", "--open-archive")
    try:
        base = f"http://127.0.0.1:{port}/api/sessions/{session}"
        assert get_json(base)["state"] == "interrupted"
        # The captions as they were sent (the record pass may have made its own since).
        kept = {m["segment"]: m["text"] for m in get_json(f"{base}/transcript.json?text=live")}
    finally:
        stop_server(restarted)
    archive = Archive(archive_path)
    assert archive.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    (last_end,) = archive.db.execute("SELECT max(end) FROM segments").fetchone()
    archive.close()

    # The recording was flushed as often as the finals: it plays up to the last of them.
    audio = decode_file(tmp_path / "audio" / f"{session}.ogg")
    assert len(audio) / SAMPLE_RATE >= last_end - scaled(AUDIO_BEHIND_S), (
        f"the audio ends at {len(audio) / SAMPLE_RATE:.1f} s, the last final at {last_end:.1f} s"
    )

    # Nothing a reader saw committed was lost to the kill.
    assert seen_committed, "no final was committed while the session ran"
    assert {s: kept.get(s) for s in seen_committed} == seen_committed
    # What was kept is an unbroken run from the start: only the last finals may be lost.
    is_kept = [kept.get(m["segment"]) == m["text"] for _, m in received]
    assert is_kept == sorted(is_kept, reverse=True), list(zip(is_kept, received, strict=True))
    # And those are no older than the bound.
    old = [m for at, m in received if at <= killed_at - bound]
    assert old and all(kept.get(m["segment"]) == m["text"] for m in old)

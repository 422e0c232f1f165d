"""``kill -9`` in the middle of a session loses at most the last second of finals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from interp.archive.store import Archive

from .test_browser import RECORDING, free_port, start_server

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_kill_9_mid_session_loses_no_final(tmp_path: Path) -> None:
    archive_path = tmp_path / "archive.sqlite"  # where start_server keeps it
    port = free_port()
    server = start_server(
        port, tmp_path, "--source", str(RECORDING), "--speed", "1.5", "--targets", "es",
        "--token", "t",
    )  # fmt: skip
    try:

        async def listen() -> list[tuple[float, dict[str, object]]]:
            received: list[tuple[float, dict[str, object]]] = []
            async with connect(f"ws://127.0.0.1:{port}/ws/captions?lang=source") as ws:
                while len([m for _, m in received if m["type"] == "final"]) < 4:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    received.append((time.monotonic(), message))
            return received

        received = asyncio.run(listen())
        time.sleep(1.0)
        killed_at = time.monotonic()
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    finals = [m for at, m in received if m["type"] == "final" and at < killed_at - 1.0]
    assert len(finals) >= 4
    archive = Archive(archive_path)
    assert archive.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    session = str(finals[0]["session"])
    stored = {m.segment: m.text for m in archive.transcript(session)}
    for final in finals:
        assert stored.get(str(final["segment"])) == final["text"]
    # The restarted server finds the session cut off, and says so.
    assert archive.mark_interrupted() == [session]
    assert archive.session(session)["state"] == "interrupted"

"""SIGTERM, as a service manager sends it, stops ``interp serve`` as Ctrl-C does."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from interp.archive.store import Archive

from ..deadlines import scaled
from ..e2e.live import RECORDING, captions, free_port, receive_until, start_server

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_sigterm_ends_the_session_gracefully(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The record pass on, with time enough to finish the stopped session's utterances.
    monkeypatch.setenv("INTERP_ASR__RECORD_PASS", "true")
    monkeypatch.setenv("INTERP_SERVER__STOP_TIMEOUT_S", str(scaled(60)))
    port = free_port()
    server = start_server(port, tmp_path, "--source", str(RECORDING), "--token", "t")
    try:
        with captions(port) as ws:
            got = receive_until(ws, lambda m, _: m["type"] == "partial", 120, "speech heard")
            session = got[-1]["session"]
            server.send_signal(signal.SIGTERM)
            # The utterance under way when the signal came still becomes a final.
            rest = receive_until(
                ws, lambda m, _: m["type"] == "session" and m.get("state") == "ended", 60,
                "the session's end",
            )  # fmt: skip
        assert server.wait(timeout=scaled(60)) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    finals = [m for m in got + rest if m["type"] == "final"]
    assert finals, "no final came out of the stopped session"
    archive = Archive(tmp_path / "archive.sqlite", readonly=True)
    try:
        (state,) = archive.db.execute("SELECT state FROM sessions WHERE id = ?", (session,))
        kept = dict(archive.db.execute("SELECT segment, text FROM segments").fetchall())
        records = dict(
            archive.db.execute("SELECT segment, text FROM records WHERE lang = 'en'").fetchall()
        )
    finally:
        archive.close()
    assert state[0] == "ended"
    assert kept == {m["segment"]: m["text"] for m in finals}
    # The stop let the record pass finish: every final has its record in the archive.
    assert set(records) == set(kept)
    assert all(text.strip() for text in records.values())

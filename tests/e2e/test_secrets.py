"""``interp serve --debug`` logs headers and frames, and never a token in them.

A real server, with every way a token travels used once: a Bearer header, a first
message on control and on closed captions, a captions link (``/?token=…``) and the
archive's cookie.  Its whole stderr is then searched for each token.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from websockets.sync.client import connect

from ..deadlines import scaled
from .live import _LOGS, free_port, start_server, stop_server

pytestmark = [pytest.mark.model, pytest.mark.slow]

OPERATOR = "operator-secret-0a1b2c"
ARCHIVIST = "archivist-secret-3d4e5f"
CAPTIONS = "captions-secret-6a7b8c"


def get(port: int, path: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(10))
    try:
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def test_debug_logs_carry_no_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERP_SERVER__OPEN_CAPTIONS", "false")
    monkeypatch.setenv("INTERP_SERVER__CAPTIONS_TOKEN", CAPTIONS)
    monkeypatch.setenv("INTERP_SERVER__ARCHIVE_TOKEN", ARCHIVIST)
    port = free_port()
    server = start_server(port, tmp_path, "--source", "ws", "--token", OPERATOR, "--debug")
    try:
        base = f"ws://127.0.0.1:{port}"
        timeout = scaled(10)
        bearer = {"Authorization": f"Bearer {OPERATOR}"}
        with connect(f"{base}/ws/control", additional_headers=bearer) as control:
            control.send(json.dumps({"command": "speaker", "name": "The Chair"}))
            assert json.loads(control.recv(timeout=timeout))["ok"]
        with connect(f"{base}/ws/control") as control:
            control.send(json.dumps({"token": OPERATOR}))
            assert json.loads(control.recv(timeout=timeout))["authenticated"]
        with connect(f"{base}/ws/captions?lang=source") as listener:
            listener.send(json.dumps({"token": CAPTIONS}))
            # Accepted: the room's status comes every second (a refusal closes with 4401).
            assert json.loads(listener.recv(timeout=timeout))["v"] == 1
        assert get(port, f"/?lang=source&token={CAPTIONS}", {}) == 200
        cookie = {"Cookie": f"theme=dark; interp_archive={ARCHIVIST}"}
        assert get(port, "/api/sessions", cookie) == 200
    finally:
        stop_server(server)
    log = _LOGS[server.pid].read_text()
    assert "< TEXT" in log and "< Cookie" in log, "no frames or headers logged: --debug did nothing"
    assert "[redacted]" in log
    for secret in (OPERATOR, ARCHIVIST, CAPTIONS):
        assert secret not in log, f"a token reached the log: {secret}"


def test_tokens_are_printed_only_on_the_run_that_made_them(tmp_path: Path) -> None:
    printed = []
    for _ in range(2):
        server = start_server(free_port(), tmp_path, "--source", "ws")
        stop_server(server)
        printed.append(_LOGS[server.pid].read_text())
    config = tmp_path / "config" / "interp"  # XDG_CONFIG_HOME of this test
    operator = (config / "token").read_text().strip()
    archivist = (config / "archive-token").read_text().strip()
    assert operator and archivist and operator != archivist
    first, second = printed
    assert operator in first and archivist in first  # new: shown once, to be handed out
    assert operator not in second and archivist not in second
    assert f"operator token in {config / 'token'}" in second

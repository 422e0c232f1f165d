"""Access by role on a real server (port 0) with a real SQLite archive and real clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from interp import config
from interp.archive.store import Archive
from interp.server.app import CaptionServer
from interp.server.hub import Hub
from interp.wire import Message, Stamper

from .test_server import TOKEN, receive, session_without_source

ARCHIVE_TOKEN = "archive-token-456"
CAPTIONS_TOKEN = "captions-token-789"
SESSION = "20261201-090000-test"


def write_archive(path: Path) -> None:
    stamper = Stamper(SESSION)
    final = Message(
        type="final", session=SESSION, seq=2, segment="seg-0", lang="en",
        text="The chair opens the sitting.", start=0.0, end=2.0, emitted_at=2.5,
    )  # fmt: skip
    archive = Archive(path)
    archive.write([stamper.session_message("started", 0.0), final])
    archive.close()


async def start(tmp_path: Path, **overrides: Any) -> tuple[CaptionServer, Any]:
    settings = config.load(
        environ={},
        overrides={"server.token": TOKEN, **{f"server.{k}": v for k, v in overrides.items()}},
    )
    hub = Hub()
    path = tmp_path / "archive.sqlite"
    write_archive(path)
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "NotoSansKhmer-Regular.ttf").write_bytes(b"khmer font bytes")
    server = CaptionServer(
        settings.server, hub, session_without_source(settings, hub, []), TOKEN, ["en"],
        archive_path=path, archive_token=ARCHIVE_TOKEN, font_dirs=[fonts],
    )  # fmt: skip
    return server, await server.serve("127.0.0.1", 0)


@pytest.fixture()
async def closed(tmp_path: Path) -> AsyncIterator[tuple[CaptionServer, int]]:
    server, listening = await start(tmp_path, open_captions=False, captions_token=CAPTIONS_TOKEN)
    async with listening:
        yield server, listening.sockets[0].getsockname()[1]


async def http(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    head = "".join(f"{k}: {v}\r\n" for k, v in lines.items() if v)
    writer.write(f"GET {path} HTTP/1.1\r\n{head}\r\n".encode())
    await writer.drain()
    answer = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in answer.split(b"\r\n")
         if line.lower().startswith(b"content-length")), 0,
    )  # fmt: skip
    body = await reader.readexactly(length)
    writer.close()
    await writer.wait_closed()
    return int(answer.split()[1]), body


ARCHIVE_PATHS = [
    "/api/sessions",
    f"/api/sessions/{SESSION}",
    f"/api/sessions/{SESSION}/transcript.txt",
    "/api/search?q=chair",
]


@pytest.mark.parametrize("path", ARCHIVE_PATHS)
async def test_the_archive_needs_the_archivist_or_operator_token(
    closed: tuple[CaptionServer, int], path: str
) -> None:
    server, port = closed
    assert (await http(port, path))[0] == 401
    assert (await http(port, path, {"Authorization": "Bearer wrong"}))[0] == 401
    assert (await http(port, path, {"Authorization": f"Bearer {CAPTIONS_TOKEN}"}))[0] == 401
    assert (await http(port, path, {"Authorization": f"Bearer {ARCHIVE_TOKEN}"}))[0] == 200
    assert (await http(port, path, {"Cookie": f"a=b; interp_archive={ARCHIVE_TOKEN}"}))[0] == 200
    assert (await http(port, path, {"Authorization": f"Bearer {TOKEN}"}))[0] == 200
    assert server.refused == 3


async def test_audio_needs_the_token_too(closed: tuple[CaptionServer, int]) -> None:
    _, port = closed
    path = f"/api/sessions/{SESSION}/audio.ogg"
    assert (await http(port, path))[0] == 401
    assert (await http(port, path, {"Cookie": f"interp_archive={ARCHIVE_TOKEN}"}))[0] == 404


async def test_open_archive_needs_no_token(tmp_path: Path) -> None:
    _, listening = await start(tmp_path, open_archive=True)
    async with listening:
        port = listening.sockets[0].getsockname()[1]
        for path in ARCHIVE_PATHS:
            assert (await http(port, path))[0] == 200, path


@pytest.mark.parametrize("endpoint", ["/ws/control", "/ws/audio"])
async def test_the_archive_token_opens_neither_control_nor_audio(
    closed: tuple[CaptionServer, int], endpoint: str
) -> None:
    _, port = closed
    headers = {"Authorization": f"Bearer {ARCHIVE_TOKEN}"}
    async with connect(f"ws://127.0.0.1:{port}{endpoint}", additional_headers=headers) as ws:
        await ws.send(json.dumps({"token": ARCHIVE_TOKEN}))
        with pytest.raises(ConnectionClosed) as refused:
            await ws.recv()
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4401


@pytest.mark.parametrize("path", ["/", "/archive", "/api/status", "/metrics", "/api/sessions"])
async def test_a_foreign_host_is_refused(closed: tuple[CaptionServer, int], path: str) -> None:
    _, port = closed
    status, body = await http(
        port, path, {"Host": "evil.example", "Authorization": f"Bearer {TOKEN}"}
    )
    assert status == 421 and b"evil.example" in body
    assert (await http(port, path, {"Host": "localhost", "Authorization": f"Bearer {TOKEN}"}))[
        0
    ] == 200
    assert (await http(port, path, {"Host": ""}))[0] == 421  # no Host at all


async def test_a_foreign_host_cannot_open_a_websocket(closed: tuple[CaptionServer, int]) -> None:
    from websockets.exceptions import InvalidStatus

    _, port = closed
    for endpoint in ("/ws/captions?lang=en", "/ws/control"):
        with pytest.raises(InvalidStatus) as refused:
            # A page on a name that resolves to this machine: its Host is that name.
            async with connect(f"ws://evil.example:{port}{endpoint}", host="127.0.0.1", port=port):
                pass
        assert refused.value.response.status_code == 421


def publish(server: CaptionServer, text: str) -> None:
    server.hub.publish(
        Message(type="final", session="s", seq=1, segment="seg-0", lang="en", text=text)
    )


async def test_closed_captions_take_the_token_as_first_message(
    closed: tuple[CaptionServer, int],
) -> None:
    server, port = closed
    publish(server, "history first")
    for token in (CAPTIONS_TOKEN, TOKEN):
        async with connect(f"ws://127.0.0.1:{port}/ws/captions?lang=en") as ws:
            await ws.send(json.dumps({"token": token}))
            (message,) = await receive(ws, 1)
            assert message["text"] == "history first"  # nothing extra before it
    headers = {"Authorization": f"Bearer {CAPTIONS_TOKEN}"}
    async with connect(
        f"ws://127.0.0.1:{port}/ws/captions?lang=en", additional_headers=headers
    ) as ws:
        (message,) = await receive(ws, 1)
        assert message["text"] == "history first"
    for first in (json.dumps({"token": "wrong"}), json.dumps({"token": ARCHIVE_TOKEN}), "hello"):
        async with connect(f"ws://127.0.0.1:{port}/ws/captions?lang=en") as ws:
            await ws.send(first)
            with pytest.raises(ConnectionClosed) as refused:
                await ws.recv()
            assert refused.value.rcvd is not None and refused.value.rcvd.code == 4401


async def test_open_captions_need_nothing(tmp_path: Path) -> None:
    server, listening = await start(tmp_path)
    async with listening:
        port = listening.sockets[0].getsockname()[1]
        publish(server, "open to the room")
        async with connect(f"ws://127.0.0.1:{port}/ws/captions?lang=en") as ws:
            (message,) = await receive(ws, 1)
            assert message["text"] == "open to the room"


@pytest.mark.parametrize(
    "command",
    [
        {"command": "start", "title": ["a", "list"]},
        {"command": "start", "title": 12},
        {"command": "start", "title": {"an": "object"}},
        {"command": "start", "title": "x" * 201},
        {"command": "speaker", "name": ["a"]},
        {"command": "speaker", "name": 3},
        {"command": "agenda_item", "item": {"x": 1}},
        {"command": "agenda_item", "item": 4.5},
    ],
)
async def test_control_refuses_a_field_that_is_not_a_short_text(
    closed: tuple[CaptionServer, int], command: dict[str, Any]
) -> None:
    server, port = closed
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(f"ws://127.0.0.1:{port}/ws/control", additional_headers=headers) as ws:
        await ws.send(json.dumps(command))
        (reply,) = await receive(ws, 1)
    assert reply["ok"] is False and "at most 200 characters" in reply["error"]
    assert not server.session.running
    assert server.session.speaker is None and server.session.agenda_item is None


async def test_fonts_are_served_from_memory(
    closed: tuple[CaptionServer, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, port = closed

    def no_disk(self: Path) -> bytes:
        raise AssertionError(f"read {self} on a request")

    monkeypatch.setattr(Path, "read_bytes", no_disk)
    assert await http(port, "/fonts/NotoSansKhmer-Regular.ttf") == (200, b"khmer font bytes")
    status, body = await http(port, "/fonts/NotoSansCJK-Regular.ttc")
    assert status == 404 and b"not installed" in body


async def test_metrics_and_status_show_the_health_counters(
    closed: tuple[CaptionServer, int],
) -> None:
    server, port = closed
    server.health.count("archive_dead_letters", 2, error="poison")
    _, metrics = await http(port, "/metrics")
    for name, value in server.health.counters().items():
        assert f"interp_{name}_total {value}\n".encode() in metrics
    assert b"interp_archive_dead_letters_total 2\n" in metrics
    _, status = await http(port, "/api/status")
    health = json.loads(status)["health"]
    assert health["archive_dead_letters"] == 2 and health["last_error"] == "poison"

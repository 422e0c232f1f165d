"""The real server on port 0 with real ``websockets`` clients.

The pipeline is replaced by publishing into the hub directly, as the pipeline does;
the end-to-end tests (``test_browser.py``) run the real one.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from interp import config
from interp.glossary import Glossary
from interp.server.app import CaptionServer
from interp.server.hub import Hub
from interp.server.session import LiveSession
from interp.translation.service import TranslationService
from interp.wire import Message, Stamper

from ..deadlines import Deadline, scaled

TOKEN = "test-token-123"


class ManualClock:
    """Monotonic seconds that move only when a test moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Room:
    def __init__(self, server: CaptionServer, port: int, clock: ManualClock) -> None:
        self.server, self.port, self.clock = server, port, clock
        self.stamper = Stamper("20261130-000000-test")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def final(self, index: int, text: str, lang: str = "en") -> Message:
        message = Message(
            type="final", session=self.stamper.session, seq=self.stamper._next(),
            segment=f"seg-{index}", lang=lang, text=text, start=index, end=index + 1.0,
            emitted_at=index + 2.0,
        )  # fmt: skip
        self.server.hub.publish(message)
        return message

    def translation(self, index: int, text: str, lang: str) -> Message:
        message = Message(
            type="translation", session=self.stamper.session, seq=self.stamper._next(),
            segment=f"seg-{index}", lang=lang, text=text, start=index, end=index + 1.0,
            emitted_at=index + 2.1,
        )  # fmt: skip
        self.server.hub.publish(message)
        return message


def session_without_source(settings: config.Settings, hub: Hub, targets: list[str]) -> LiveSession:
    """A live session with no model or audio source: the tests publish to its hub."""
    return LiveSession(
        settings,
        hub,
        None,
        None,  # type: ignore[arg-type]
        TranslationService([]),
        targets,
        Glossary(),
        lambda: None,  # type: ignore[arg-type,return-value]
    )


@pytest.fixture()
async def room() -> AsyncIterator[Room]:
    settings = config.load(environ={}, overrides={"server.token": TOKEN, "server.outbox_limit": 50})
    hub = Hub(settings.server.outbox_limit, settings.server.history_limit)
    session = session_without_source(settings, hub, ["es"])
    clock = ManualClock()
    server = CaptionServer(settings.server, hub, session, TOKEN, ["en", "es"], clock=clock)
    async with await server.serve("127.0.0.1", 0) as listening:
        yield Room(server, listening.sockets[0].getsockname()[1], clock)


async def receive(ws: Any, count: int, seconds: float = 5.0) -> list[dict[str, Any]]:
    """The next ``count`` messages, all within one deadline of ``scaled(seconds)``."""
    deadline = Deadline(seconds)
    return [
        json.loads(await asyncio.wait_for(ws.recv(), deadline.remaining())) for _ in range(count)
    ]


async def until(condition: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    """Return once ``condition()`` holds (checked every 10 ms), within ``scaled(seconds)``."""
    deadline = Deadline(seconds)
    while not condition():
        assert not deadline.expired, f"not within {deadline.allowed:.1f} s: {what}"
        await asyncio.sleep(0.01)


async def test_newcomer_gets_history_then_live(room: Room) -> None:
    for i in range(3):
        room.final(i, f"sentence {i}")
    async with connect(f"{room.url}/ws/captions?lang=source") as ws:
        history = await receive(ws, 3)
        assert [m["text"] for m in history] == ["sentence 0", "sentence 1", "sentence 2"]
        room.final(3, "live one")
        (live,) = await receive(ws, 1)
        assert live["text"] == "live one" and live["type"] == "final" and live["v"] == 1


async def test_resume_with_since_loses_nothing_and_repeats_nothing(room: Room) -> None:
    sent = [room.final(i, f"s{i}") for i in range(5)]
    async with connect(f"{room.url}/ws/captions?lang=source&since={sent[1].seq}") as ws:
        got = await receive(ws, 3)
        assert [m["seq"] for m in got] == [m.seq for m in sent[2:]]
        # One socket keeps order: a repeat of the history would come before this one.
        marker = room.final(5, "s5")
        (after,) = await receive(ws, 1)
        assert after["seq"] == marker.seq


async def test_a_reader_back_after_the_history_forgot_is_told_of_a_gap(room: Room) -> None:
    room.server.hub = Hub(history_limit=3)  # keeps only the last three
    sent = [room.final(i, f"s{i}") for i in range(6)]
    since = sent[0].seq
    async with connect(
        f"{room.url}/ws/captions?lang=source&since={since}&session={room.stamper.session}"
    ) as ws:
        gap, *kept = await receive(ws, 4)
    assert gap["type"] == "gap" and gap["from_seq"] == since + 1
    assert gap["to_seq"] == gap["seq"] == sent[2].seq  # what follows is complete
    assert gap["published_at"] is not None
    assert [m["seq"] for m in kept] == [m.seq for m in sent[3:]]
    # A newcomer was following nothing: it gets the kept lines and no gap.
    async with connect(f"{room.url}/ws/captions?lang=source") as ws:
        newcomer = await receive(ws, 3)
    assert [m["type"] for m in newcomer] == ["final"] * 3


async def test_language_filter(room: Room) -> None:
    async with connect(f"{room.url}/ws/captions?lang=es") as ws:
        room.final(0, "Good morning.")
        room.translation(0, "Buenos días.", "es")
        room.translation(0, "Bonjour.", "fr")
        (message,) = await receive(ws, 1)
        assert (message["type"], message["text"], message["segment"]) == (
            "translation", "Buenos días.", "seg-0"
        )  # fmt: skip


async def test_unknown_language_is_refused(room: Room) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{room.url}/ws/captions?lang=klingon"):
            pass
    assert refused.value.response.status_code == 400
    assert b"unknown language" in refused.value.response.body


async def test_a_stalled_listener_never_delays_the_others(room: Room) -> None:
    # A client that completes the handshake and then never reads.
    stalled = socket.create_connection(("127.0.0.1", room.port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(
        b"GET /ws/captions?lang=source HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    try:
        await until(lambda: len(room.server.hub.listeners) == 1, "the stalled listener joins")
        async with connect(f"{room.url}/ws/captions?lang=source", max_size=None) as reader:
            got: list[dict[str, Any]] = []
            progressed = asyncio.Event()

            async def read() -> None:
                while len(got) < 300:
                    got.append(json.loads(await reader.recv()))
                    progressed.set()

            reading = asyncio.create_task(read())
            deadline = Deadline(30)
            text = "x" * 60_000  # 18 MB in all: more than the kernel buffers of the stalled socket
            for i in range(300):
                # The floor waits for the reading listener, however fast this machine is,
                # so that only the stalled one can fall behind its outbox (50 here).
                while i - len(got) >= 20:
                    progressed.clear()
                    if i - len(got) >= 20:
                        await asyncio.wait_for(progressed.wait(), deadline.remaining())
                room.final(i, f"{i} {text}")
            await asyncio.wait_for(reading, deadline.remaining())
            assert [m["segment"] for m in got] == [f"seg-{i}" for i in range(300)]
            assert room.server.hub.disconnected_slow == 1
    finally:
        stalled.close()


async def test_control_needs_the_token(room: Room) -> None:
    async with connect(f"{room.url}/ws/control") as ws:
        await ws.send(json.dumps({"token": "wrong"}))
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    async with connect(f"{room.url}/ws/audio") as ws:
        await ws.send(b"\x00\x01" * 100)  # audio before any token
        with pytest.raises(ConnectionClosed):
            await ws.recv()


async def test_control_with_token_and_bad_frames(room: Room) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(f"{room.url}/ws/control", additional_headers=headers) as ws:
        await ws.send(b"\xff\xfe garbage")
        assert "not binary" in json.loads(await ws.recv())["error"]
        await ws.send("{not json")
        assert "not valid JSON" in json.loads(await ws.recv())["error"]
        await ws.send(json.dumps({"command": "dance"}))
        assert "unknown command" in json.loads(await ws.recv())["error"]
        await ws.send(json.dumps({"command": "speaker", "name": "Delegate of Cambodia"}))
        reply = json.loads(await ws.recv())
        assert reply["ok"] and reply["speaker"] == "Delegate of Cambodia"


async def statuses(ws: Any, count: int) -> list[bool]:
    """Send ``count`` status commands at once; which of them were answered, in order."""
    for _ in range(count):
        await ws.send(json.dumps({"command": "status"}))
    replies = await receive(ws, count)
    refused = [r for r in replies if not r["ok"]]
    assert all("too many commands" in r["error"] for r in refused)
    return [r["ok"] for r in replies]


async def test_control_flood_is_rate_limited(room: Room) -> None:
    """Five commands a second, with a burst of five: counted on a clock the test moves."""
    assert room.server.settings.control_per_second == 5.0
    async with connect(
        f"{room.url}/ws/control", additional_headers={"Authorization": f"Bearer {TOKEN}"}
    ) as ws:
        assert await statuses(ws, 30) == [True] * 5 + [False] * 25
        room.clock.advance(0.2)  # one command's worth of allowance comes back
        assert await statuses(ws, 3) == [True, False, False]
        room.clock.advance(60)  # a long pause refills the burst, and no more
        assert await statuses(ws, 8) == [True] * 5 + [False] * 3


async def test_control_rate_limit_on_the_real_clock(tmp_path: Path) -> None:
    """The server's own clock: the burst always passes, and no more than the rate allows."""
    settings = config.load(environ={}, overrides={"server.token": TOKEN})
    hub = Hub()
    server = CaptionServer(
        settings.server, hub, session_without_source(settings, hub, []), TOKEN, ["en"]
    )
    rate = settings.server.control_per_second
    async with await server.serve("127.0.0.1", 0) as listening:
        port = listening.sockets[0].getsockname()[1]
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(f"ws://127.0.0.1:{port}/ws/control", additional_headers=headers) as ws:
            began = time.monotonic()
            answered = await statuses(ws, 30)
            elapsed = time.monotonic() - began
    assert answered[: int(rate)] == [True] * int(rate)
    # Whatever this machine's speed: the burst, plus what the time taken refilled.
    assert sum(answered) <= rate + rate * elapsed


async def test_foreign_origin_cannot_control(room: Room) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{room.url}/ws/control", origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


async def test_oversized_frame_closes_only_that_connection(room: Room) -> None:
    async with connect(f"{room.url}/ws/captions?lang=source") as other:
        reader, writer = await asyncio.open_connection("127.0.0.1", room.port)
        writer.write(
            b"GET /ws/captions?lang=source HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n"
        )
        await reader.readuntil(b"\r\n\r\n")
        # A masked binary frame announcing 10 MB, then the first 64 kB of it.
        size = 10 * 1024 * 1024
        writer.write(bytes([0x82, 0xFF]) + size.to_bytes(8, "big") + b"\x00" * 4 + b"\x00" * 65536)
        await writer.drain()
        close = await asyncio.wait_for(reader.read(64), scaled(5))
        assert close[0] == 0x88 and int.from_bytes(close[2:4], "big") == 1009  # message too big
        writer.close()
        room.final(0, "still here")
        (message,) = await receive(other, 1)
        assert message["text"] == "still here"


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split()[1])
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    body = await reader.readexactly(length)
    writer.close()
    return status, body


@pytest.mark.parametrize(
    "path",
    ["/static/../../pyproject.toml", "/static/%2e%2e/%2e%2e/pyproject.toml",
     "/fonts/../../../etc/passwd", "/static//etc/passwd", "/nowhere"],
)  # fmt: skip
async def test_static_serving_cannot_escape_web(room: Room, path: str) -> None:
    status, body = await http_get(room.port, path)
    assert status == 404 and b"[project]" not in body and b"root:" not in body


async def test_pages_health_and_metrics(room: Room) -> None:
    for path in ("/", "/interpreter", "/operator", "/static/captions.js", "/static/style.css"):
        status, _ = await http_get(room.port, path)
        assert status == 200, path
    assert await http_get(room.port, "/healthz") == (200, b"ok\n")
    status, body = await http_get(room.port, "/metrics")
    assert status == 200 and b"interp_listeners 0" in body
    status, body = await http_get(room.port, "/api/status")
    assert status == 200 and json.loads(body)["languages"] == ["en", "es"]


async def test_tls_with_cert_and_key(tmp_path: Path) -> None:
    import ssl
    import subprocess

    from interp.server.run import ServeOptions, _tls

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = _tls(ServeOptions(source="ws", cert=cert, key=key))
    settings = config.load(environ={}, overrides={"server.token": TOKEN})
    hub = Hub()
    session = session_without_source(settings, hub, [])
    server = CaptionServer(settings.server, hub, session, TOKEN, ["en"])
    async with await server.serve("127.0.0.1", 0, context) as listening:
        port = listening.sockets[0].getsockname()[1]
        client = ssl.create_default_context(cafile=str(cert))
        async with connect(f"wss://127.0.0.1:{port}/ws/captions?lang=en", ssl=client) as ws:
            hub.publish(Message(type="final", session="s", seq=1, segment="seg-0", lang="en",
                                text="over TLS"))  # fmt: skip
            (message,) = await receive(ws, 1)
            assert message["text"] == "over TLS"
    with pytest.raises(Exception, match="both --cert and --key"):
        _tls(ServeOptions(source="ws", cert=cert))

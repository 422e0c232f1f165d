"""``/ws/captions``: one listener's stream of one language, history first, then live.

Read-only.  When captions are closed (``server.open_captions = false``) the listener
first proves a captions or operator token (:func:`~interp.server.access.authenticate`);
the stream then starts as it does for everyone.  A caption goes straight to the socket
when nothing waits before it and the socket keeps up; otherwise it queues in the
listener's outbox and a writer task sends it (see :mod:`interp.fanout`).
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from .access import Access, Role, authenticate
from .hub import SOURCE, Hub, Listener

DIRECT_WRITE_LIMIT = 64 * 1024
"""Bytes a socket may have unsent and still take a caption on the fast path."""
TOO_SLOW = 4408


async def serve_captions(connection: ServerConnection, hub: Hub, access: Access) -> None:
    """Stream the captions the request's ``lang`` (and ``since``, ``session``) ask for."""
    assert connection.request is not None
    if not await authenticate(connection, access, Role.CAPTIONS, acknowledge=False):
        return
    query = parse_qs(urlsplit(connection.request.path).query)
    lang = query.get("lang", [SOURCE])[0]
    since_text = query.get("since", [None])[0]
    session = query.get("session", [None])[0]
    listener, _complete = hub.join(lang, int(since_text) if since_text else None, session)

    def write_now(text: str) -> bool:
        if listener.busy or connection.protocol.state is not State.OPEN:
            return False
        transport = connection.transport
        if transport is None or transport.get_write_buffer_size() > DIRECT_WRITE_LIMIT:
            return False
        broadcast([connection], text)
        return True

    listener.write_now = write_now
    try:
        writer = asyncio.create_task(_write(connection, listener, hub))
        try:
            async for _ in connection:  # captions are read-only; ignore what comes in
                pass
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await writer
    finally:
        hub.leave(listener)


async def _write(connection: ServerConnection, listener: Listener, hub: Hub) -> None:
    """The slow path: what had to queue (history, or while the socket was full)."""
    while True:
        await listener.wake.wait()
        listener.wake.clear()
        if listener.too_slow:
            await connection.close(TOO_SLOW, "too slow: reconnect with since to catch up")
            return
        listener.busy = True
        try:
            while waiting := listener.outbox.take():
                for message in waiting:
                    await connection.send(hub.encoded(message))
        finally:
            listener.busy = False

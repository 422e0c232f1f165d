"""``/ws/audio``: PCM s16le, 16 kHz, mono, in binary frames from the floor device.

The connection is authenticated before (operator token).  Frames go to the session's
:class:`~interp.audio.source.PushedAudioSource`; a text frame or a frame the source
refuses is answered with ``{"ok": false, "error": …}`` and the stream goes on.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from websockets.asyncio.server import ServerConnection

from ..audio.source import PushedAudioSource
from ..errors import InterpError

NOT_PUSHED = 4409


async def receive_floor_audio(
    connection: ServerConnection, pushed: Callable[[], PushedAudioSource | None]
) -> None:
    """Feed each frame to ``pushed()``: asked per frame, since each session has its own."""
    if pushed() is None:
        await connection.close(NOT_PUSHED, "this session does not take pushed audio (--source ws)")
        return
    async for frame in connection:
        if isinstance(frame, str):
            await connection.send(
                json.dumps({"ok": False, "error": "audio frames are binary s16le PCM"})
            )
            continue
        source = pushed()
        if source is None:
            continue  # between sessions: nothing listens to the floor
        try:
            source.push(frame)
        except InterpError as exc:
            await connection.send(json.dumps({"ok": False, "error": str(exc)}))

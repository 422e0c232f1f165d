"""``/ws/control``: the operator's JSON commands, rate limited, every field checked.

A command is ``{"command": "start"|"stop"|"speaker"|"agenda_item"|"status", …}``.
Every field is validated before anything changes: a title, speaker or agenda item is
a text of at most :data:`MAX_FIELD_CHARS` characters, or absent.  A refused command
is answered ``{"ok": false, "error": …}`` and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection

from ..config import ServerSettings
from ..errors import InterpError, ProtocolError
from .session import LiveSession

MAX_FIELD_CHARS = 200


class Control:
    """Runs the commands of every operator connection against the one live session."""

    def __init__(
        self, session: LiveSession, settings: ServerSettings, clock: Callable[[], float]
    ) -> None:
        self.session = session
        self.settings = settings
        self._clock = clock

    async def serve(self, connection: ServerConnection) -> None:
        """Answer each command in turn; a burst over the rate limit is refused, not queued."""
        rate = self.settings.control_per_second
        allowance, last = rate, self._clock()
        async for raw in connection:
            now = self._clock()
            allowance = min(rate, allowance + (now - last) * rate)
            last = now
            if allowance < 1.0:
                await connection.send(
                    json.dumps({"ok": False, "error": "too many commands; slow down"})
                )
                continue
            allowance -= 1.0
            await connection.send(json.dumps(await self.command(raw)))

    async def command(self, raw: str | bytes) -> dict[str, Any]:
        try:
            if not isinstance(raw, str):
                raise ProtocolError("control messages are JSON text, not binary")
            try:
                command = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ProtocolError(f"not valid JSON: {exc}") from exc
            if not isinstance(command, dict) or not isinstance(command.get("command"), str):
                raise ProtocolError('a command is a JSON object with a "command" field')
            name = command["command"]
            if name == "start":
                session = self.session.start(text_field(command, "title"))
                return {"ok": True, "command": name, "session": session}
            if name == "stop":
                await self.session.stop()
                return {"ok": True, "command": name}
            if name == "speaker":
                self.session.set_speaker(text_field(command, "name"))
                return {"ok": True, "command": name, "speaker": self.session.speaker}
            if name == "agenda_item":
                self.session.set_agenda_item(text_field(command, "item"))
                return {"ok": True, "command": name, "agenda_item": self.session.agenda_item}
            if name == "status":
                return {"ok": True, "command": name, **self.session.status()}
            raise ProtocolError(
                f"unknown command {name!r}: use start, stop, speaker, agenda_item or status"
            )
        except InterpError as exc:
            return {"ok": False, "error": str(exc)}


def text_field(command: dict[str, Any], key: str) -> str | None:
    """``command[key]``: a text of at most 200 characters with its runs of blanks made one,
    or None when absent, null or blank."""
    value = command.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_FIELD_CHARS):
        raise ProtocolError(f"{key!r} must be a text of at most {MAX_FIELD_CHARS} characters")
    # Blanks alone name nobody: they clear the field, as an empty text does.
    return " ".join(value.split()) or None if value is not None else None

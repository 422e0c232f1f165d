"""One port: the pages and JSON API over ``process_request``, the three WebSocket paths.

Routing stays a small table.  ``/ws/captions`` is open to the venue network (unless
configured otherwise); ``/ws/control`` and ``/ws/audio`` need the token, given in an
``Authorization: Bearer`` header or as the first message, and an allowed ``Origin``.
Tokens never reach a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import http
import json
import logging
import mimetypes
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from ..audio.source import PushedAudioSource
from ..config import ServerSettings
from ..errors import ArchiveError, ConfigError, InterpError, ProtocolError
from ..glossary import Glossary
from ..languages import WHISPER_LANGUAGES
from .hub import SOURCE, Hub, Listener
from .session import LiveSession

logger = logging.getLogger(__name__)

WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
PAGES = {
    "/": "index.html",
    "/interpreter": "interpreter.html",
    "/operator": "operator.html",
    "/archive": "archive.html",
}
# Fonts for Khmer, Arabic and Chinese, from Debian's fonts-noto packages (set-up installs them).
FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
FONTS = (
    "NotoSans-Regular.ttf",
    "NotoSansKhmer-Regular.ttf",
    "NotoSansArabic-Regular.ttf",
    "NotoSansCJK-Regular.ttc",
)
AUTH_TIMEOUT_S = 5.0
DIRECT_WRITE_LIMIT = 64 * 1024
"""Bytes a socket may have unsent and still take a caption on the fast path."""


def _response(
    status: http.HTTPStatus, body: bytes, content_type: str, cache: bool = False
) -> Response:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Cache-Control"] = "max-age=86400" if cache else "no-store"
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(status.value, status.phrase, headers, body)


def _json(data: Any, status: http.HTTPStatus = http.HTTPStatus.OK) -> Response:
    return _response(status, json.dumps(data, ensure_ascii=False).encode(), "application/json")


def _text(status: http.HTTPStatus, text: str) -> Response:
    return _response(status, (text + "\n").encode(), "text/plain; charset=utf-8")


class CaptionServer:
    def __init__(
        self,
        settings: ServerSettings,
        hub: Hub,
        session: LiveSession,
        token: str,
        languages: list[str],
        glossary: Glossary | None = None,
        archive_path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.archive_path = archive_path
        self._clock = clock
        """Monotonic seconds for the control rate limit; replaceable, so its counts are exact."""
        self.glossary = glossary or Glossary()
        self.settings = settings
        self.hub = hub
        self.session = session
        self._token = token
        self.languages = languages
        self.pushed: PushedAudioSource | None = None
        self._origins = {o.strip() for o in settings.allowed_origins.split(",") if o.strip()}
        self.started = time.time()
        self.refused = 0

    # -- HTTP --------------------------------------------------------------------

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        url = urlsplit(request.path)
        if url.path.startswith("/api/sessions") or url.path == "/api/search":
            # SQLite reads and exports run on a thread, never on the event loop.
            return await asyncio.to_thread(
                self._archive_api, url.path, parse_qs(url.query), request.headers.get("Range")
            )
        return self._route(request, url.path, parse_qs(url.query))

    def _route(self, request: Request, path: str, query: dict[str, list[str]]) -> Response | None:
        if path.startswith("/ws/"):
            return self._check_websocket(path, request, query)
        if path in PAGES:
            return self._file(WEB_ROOT, PAGES[path])
        if path.startswith("/static/"):
            return self._file(WEB_ROOT / "static", path.removeprefix("/static/"))
        if path.startswith("/fonts/"):
            return self._font(path.removeprefix("/fonts/"))
        if path == "/healthz":
            return _text(http.HTTPStatus.OK, "ok")
        if path == "/metrics":
            return self._metrics()
        if path == "/api/glossary":
            return _json(self._glossary_forms())
        if path == "/api/status":
            return _json({**self.session.status(), "languages": self.languages})
        return _text(http.HTTPStatus.NOT_FOUND, f"not found: {path}")

    def _archive_api(
        self, path: str, query: dict[str, list[str]], byte_range: str | None = None
    ) -> Response:
        from ..archive.export import CONTENT_TYPES, export
        from ..archive.store import Archive

        if self.archive_path is None:
            return _json(
                {"error": "this server keeps no archive (--archive)"}, http.HTTPStatus.NOT_FOUND
            )
        first = {key: values[0] for key, values in query.items() if values}
        try:
            archive = Archive(self.archive_path, readonly=True)
        except ArchiveError as exc:
            return _json({"error": str(exc)}, http.HTTPStatus.SERVICE_UNAVAILABLE)
        try:
            if path == "/api/search":
                hits = archive.search(
                    first.get("q", ""), session=first.get("session"), lang=first.get("lang"),
                    speaker=first.get("speaker"), since=_number(first.get("from")),
                    until=_number(first.get("to")),
                )  # fmt: skip
                return _json([hit.to_dict() for hit in hits])
            parts = path.removeprefix("/api/sessions").strip("/").split("/")
            if parts == [""]:
                return _json(archive.sessions())
            if len(parts) == 1:
                return _json(archive.session(parts[0]))
            if len(parts) == 2 and parts[1] == "audio.ogg":
                audio = archive.audio_path(parts[0])
                if audio is None:
                    return _json(
                        {"error": "no audio kept for this session"}, http.HTTPStatus.NOT_FOUND
                    )
                return _ranged(audio.read_bytes(), "audio/ogg", byte_range)
            if len(parts) == 2 and parts[1].startswith("transcript."):
                fmt = parts[1].removeprefix("transcript.")
                lang = first.get("lang") or None
                session = archive.session(parts[0])
                body = export(fmt, archive.transcript(parts[0], lang), session, lang)
                response = _response(http.HTTPStatus.OK, body, CONTENT_TYPES[fmt])
                name = f"{parts[0]}{'-' + lang if lang else ''}.{fmt}"
                response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
                return response
            return _json({"error": f"not found: {path}"}, http.HTTPStatus.NOT_FOUND)
        except ArchiveError as exc:
            status = (
                http.HTTPStatus.NOT_FOUND
                if "no session" in str(exc)
                else http.HTTPStatus.BAD_REQUEST
            )
            return _json({"error": str(exc)}, status)
        except ConfigError as exc:
            return _json({"error": str(exc)}, http.HTTPStatus.BAD_REQUEST)
        finally:
            archive.close()

    def _glossary_forms(self) -> dict[str, list[str]]:
        """Each language's forms of the glossary terms, for the interpreter page to mark."""
        forms: dict[str, list[str]] = {}
        languages = {*self.languages, "en"} | {
            lang for t in self.glossary.terms for lang in t.renderings
        }
        for lang in sorted(languages):
            found = [form for term in self.glossary.terms if (form := term.form(lang))]
            if found:
                forms[lang] = found
        return forms

    def _file(self, root: Path, name: str) -> Response:
        target = (root / name).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            return _text(http.HTTPStatus.NOT_FOUND, "not found")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript",):
            kind += "; charset=utf-8"
        return _response(http.HTTPStatus.OK, target.read_bytes(), kind)

    def _font(self, name: str) -> Response:
        if name not in FONTS:
            return _text(http.HTTPStatus.NOT_FOUND, "not found")
        for directory in FONT_DIRS:
            if (directory / name).is_file():
                kind = "font/collection" if name.endswith(".ttc") else "font/ttf"
                return _response(
                    http.HTTPStatus.OK, (directory / name).read_bytes(), kind, cache=True
                )
        return _text(http.HTTPStatus.NOT_FOUND, f"font {name} is not installed (fonts-noto)")

    def _metrics(self) -> Response:
        status = self.session.status()
        lines = [
            "# TYPE interp_listeners gauge",
            f"interp_listeners {status['listeners']}",
            "# TYPE interp_lag_seconds gauge",
            f"interp_lag_seconds {status['lag']}",
            "# TYPE interp_messages_published_total counter",
            f"interp_messages_published_total {self.hub.published}",
            "# TYPE interp_listeners_disconnected_slow_total counter",
            f"interp_listeners_disconnected_slow_total {self.hub.disconnected_slow}",
            "# TYPE interp_requests_refused_total counter",
            f"interp_requests_refused_total {self.refused}",
            "# TYPE interp_session_running gauge",
            f"interp_session_running {int(status['running'])}",
        ]
        return _response(
            http.HTTPStatus.OK, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4"
        )

    def _check_websocket(
        self, path: str, request: Request, query: dict[str, list[str]]
    ) -> Response | None:
        if path == "/ws/captions":
            lang = query.get("lang", [SOURCE])[0]
            if lang != SOURCE and lang not in self.languages and lang not in WHISPER_LANGUAGES:
                self.refused += 1
                listed = ", ".join([SOURCE, *self.languages])
                return _text(
                    http.HTTPStatus.BAD_REQUEST,
                    f"unknown language {lang!r}: this session has {listed}",
                )
            since = query.get("since", [None])[0]
            if since is not None and not since.isdigit():
                self.refused += 1
                return _text(http.HTTPStatus.BAD_REQUEST, "since must be a sequence number")
            if not self.settings.open_captions and not self._authorised(request):
                self.refused += 1
                return _text(http.HTTPStatus.UNAUTHORIZED, "captions need the token here")
            return None
        if path in ("/ws/control", "/ws/audio"):
            if not self._origin_allowed(request):
                self.refused += 1
                return _text(http.HTTPStatus.FORBIDDEN, "origin not allowed")
            return None  # the token comes in the header or as the first message
        self.refused += 1
        return _text(http.HTTPStatus.NOT_FOUND, f"no WebSocket endpoint {path}")

    def _origin_allowed(self, request: Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: a floor device or a script, which has the token
        host = request.headers.get("Host", "")
        return urlsplit(origin).netloc == host or origin in self._origins

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and self._token_ok(header.removeprefix("Bearer "))

    def _token_ok(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self._token.encode())

    # -- WebSockets --------------------------------------------------------------

    async def handler(self, connection: ServerConnection) -> None:
        path = urlsplit(connection.request.path if connection.request else "/").path
        try:
            if path == "/ws/captions":
                await self._captions(connection)
            elif path == "/ws/control":
                if await self._authenticate(connection):
                    await self._control(connection)
            elif path == "/ws/audio":
                if await self._authenticate(connection):
                    await self._audio(connection)
        except ConnectionClosed:
            pass

    async def _authenticate(self, connection: ServerConnection) -> bool:
        assert connection.request is not None
        if self._authorised(connection.request):
            return True
        try:
            first = await asyncio.wait_for(connection.recv(), AUTH_TIMEOUT_S)
            token = json.loads(first).get("token", "") if isinstance(first, str) else ""
        except (TimeoutError, json.JSONDecodeError, AttributeError):
            token = ""
        if isinstance(token, str) and token and self._token_ok(token):
            await connection.send(json.dumps({"ok": True, "authenticated": True}))
            return True
        self.refused += 1
        await connection.close(4401, "a valid token is needed")
        return False

    async def _captions(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        query = parse_qs(urlsplit(connection.request.path).query)
        lang = query.get("lang", [SOURCE])[0]
        since_text = query.get("since", [None])[0]
        session = query.get("session", [None])[0]
        listener, complete = self.hub.join(lang, int(since_text) if since_text else None, session)

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
            if not complete:
                await connection.send(json.dumps({"v": 1, "type": "gap", "since": since_text}))
            writer = asyncio.create_task(self._write(connection, listener))
            try:
                async for _ in connection:  # captions are read-only; ignore what comes in
                    pass
            finally:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await writer
        finally:
            self.hub.leave(listener)

    async def _write(self, connection: ServerConnection, listener: Listener) -> None:
        """The slow path: what had to queue (history, or while the socket was full)."""
        while True:
            await listener.wake.wait()
            listener.wake.clear()
            if listener.too_slow:
                await connection.close(4408, "too slow: reconnect with since to catch up")
                return
            listener.busy = True
            try:
                while waiting := listener.outbox.take():
                    for message in waiting:
                        await connection.send(self.hub.encoded(message))
            finally:
                listener.busy = False

    async def _control(self, connection: ServerConnection) -> None:
        allowance, last = self.settings.control_per_second, self._clock()
        async for raw in connection:
            now = self._clock()
            allowance = min(
                self.settings.control_per_second,
                allowance + (now - last) * self.settings.control_per_second,
            )
            last = now
            if allowance < 1.0:
                await connection.send(
                    json.dumps({"ok": False, "error": "too many commands; slow down"})
                )
                continue
            allowance -= 1.0
            await connection.send(json.dumps(await self._command(raw)))

    async def _command(self, raw: str | bytes) -> dict[str, Any]:
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
                session = self.session.start(command.get("title"))
                return {"ok": True, "command": name, "session": session}
            if name == "stop":
                await self.session.stop()
                return {"ok": True, "command": name}
            if name == "speaker":
                self.session.set_speaker(_text_field(command, "name"))
                return {"ok": True, "command": name, "speaker": self.session.speaker}
            if name == "agenda_item":
                self.session.set_agenda_item(_text_field(command, "item"))
                return {"ok": True, "command": name, "agenda_item": self.session.agenda_item}
            if name == "status":
                return {"ok": True, "command": name, **self.session.status()}
            raise ProtocolError(
                f"unknown command {name!r}: use start, stop, speaker, agenda_item or status"
            )
        except InterpError as exc:
            return {"ok": False, "error": str(exc)}

    async def _audio(self, connection: ServerConnection) -> None:
        if self.pushed is None:
            await connection.close(4409, "this session does not take pushed audio (--source ws)")
            return
        async for frame in connection:
            if isinstance(frame, str):
                await connection.send(
                    json.dumps({"ok": False, "error": "audio frames are binary s16le PCM"})
                )
                continue
            try:
                self.pushed.push(frame)
            except InterpError as exc:
                await connection.send(json.dumps({"ok": False, "error": str(exc)}))

    async def serve(self, host: str, port: int, ssl: Any = None) -> Server:
        return await serve(
            self.handler,
            host,
            port,
            process_request=self.process_request,
            max_size=self.settings.max_message_bytes,
            # Per-connection deflate would compress every caption once per listener and
            # hold a compressor per socket: thousands of listeners make that the cost.
            compression=None,
            ssl=ssl,
            server_header="interp",
            logger=logging.getLogger("interp.server.connections"),
        )


def _ranged(body: bytes, kind: str, byte_range: str | None) -> Response:
    """A file, or the part of it a ``Range: bytes=a-b`` header asks for (players seek so)."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", byte_range or "")
    if not match or not (match.group(1) or match.group(2)):
        response = _response(http.HTTPStatus.OK, body, kind)
        response.headers["Accept-Ranges"] = "bytes"
        return response
    size = len(body)
    if match.group(1):
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
    else:
        start, end = max(0, size - int(match.group(2))), size - 1
    if start >= size or start > end:
        response = _text(http.HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "bad range")
        response.headers["Content-Range"] = f"bytes */{size}"
        return response
    response = _response(http.HTTPStatus.PARTIAL_CONTENT, body[start : end + 1], kind)
    response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    response.headers["Accept-Ranges"] = "bytes"
    return response


def _number(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{value!r} is not a number (seconds since 1970)") from exc


def _text_field(command: dict[str, Any], key: str) -> str | None:
    value = command.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > 200):
        raise ProtocolError(f"{key!r} must be a text of at most 200 characters")
    return value

"""One port: the pages and JSON API over ``process_request``, the three WebSocket paths.

:class:`CaptionServer` composes the parts and keeps the routing table; each part
lives in its own module:

- :mod:`~interp.server.access`: roles and tokens, the Host and Origin checks, redacted logs;
- :mod:`~interp.server.static`: the pages, static files and the fonts held in memory;
- :mod:`~interp.server.archive_api`: ``/api/sessions…`` and ``/api/search`` (archivists);
- :mod:`~interp.server.captions`: ``/ws/captions`` (open, or with the captions token);
- :mod:`~interp.server.control`: ``/ws/control`` (operator token);
- :mod:`~interp.server.floor_audio`: ``/ws/audio`` (operator token).

Every request must name this server in its ``Host``; a refusal, for any reason, is
counted in ``interp_requests_refused_total``.  Tokens never reach a log.
"""

from __future__ import annotations

import asyncio
import http
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ..audio.source import PushedAudioSource
from ..config import ServerSettings
from ..glossary import Glossary
from ..health import Health
from ..languages import WHISPER_LANGUAGES
from .access import Access, Role, authenticate, machine_names, redact_logs
from .archive_api import archive_response, is_archive_path
from .captions import serve_captions
from .control import Control
from .floor_audio import receive_floor_audio
from .hub import SOURCE, Hub
from .responses import json_response, response, text_response
from .session import LiveSession
from .static import FONT_DIRS, Fonts, page

logger = logging.getLogger(__name__)


class CaptionServer:
    """The caption server of one room: build it, then ``async with await server.serve(…)``.

    Args:
        settings: the ``[server]`` settings (open captions and archive, allowed hosts…).
        hub: where the session publishes and listeners join.
        session: the live session the operator controls.
        token: the operator token (control, audio, and every other role).
        languages: the floor language (if fixed) and the translation targets.
        glossary: the terms the interpreter page marks.
        archive_path: the SQLite archive the API reads; None: no archive.
        clock: monotonic seconds for the control rate limit (a test's clock is exact).
        archive_token: the archivist token; empty: only the operator token opens the archive.
        health: the fault counters shown by ``/api/status`` and ``/metrics``.
        font_dirs: where the served fonts are read from at start-up.
    """

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
        *,
        archive_token: str = "",
        health: Health | None = None,
        font_dirs: Iterable[Path] = FONT_DIRS,
    ) -> None:
        self.archive_path = archive_path
        self.glossary = glossary or Glossary()
        self.settings = settings
        self.hub = hub
        self.session = session
        self.languages = languages
        self.health = health if health is not None else Health()
        self.pushed: PushedAudioSource | None = None
        """The current session's pushed audio (``--source ws``), set as each one starts."""
        self.access = Access(
            token,
            archive_token,
            settings.captions_token,
            open_archive=settings.open_archive,
            open_captions=settings.open_captions,
            allowed_origins=(o.strip() for o in settings.allowed_origins.split(",")),
        )
        self.fonts = Fonts(font_dirs)
        self.control = Control(session, settings, clock)
        self.started = time.time()
        self.archive_token_new = False
        """Whether the archivist token was generated on this start (it is printed once)."""

    @property
    def refused(self) -> int:
        return self.access.refused

    # -- HTTP --------------------------------------------------------------------

    async def process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        if not self.access.host_allowed(request.headers):
            self.access.refuse()
            host = ", ".join(request.headers.get_all("Host"))
            return text_response(
                http.HTTPStatus.MISDIRECTED_REQUEST,
                f"this server does not answer to the name {host!r}: use its address, "
                "or add the name to server.allowed_hosts",
            )
        url = urlsplit(request.path)
        if is_archive_path(url.path):
            if not self.access.allows(request.headers, Role.ARCHIVIST, cookie=True):
                self.access.refuse()
                refused = json_response(
                    {"error": "the archive needs the archivist token (or --open-archive)"},
                    http.HTTPStatus.UNAUTHORIZED,
                )
                refused.headers["WWW-Authenticate"] = 'Bearer realm="archive"'
                return refused
            # SQLite reads and exports run on a thread, never on the event loop.
            return await asyncio.to_thread(
                archive_response,
                self.archive_path,
                url.path,
                parse_qs(url.query),
                request.headers.get("Range"),
            )
        return self._route(request, url.path, parse_qs(url.query))

    def _route(self, request: Request, path: str, query: dict[str, list[str]]) -> Response | None:
        if path.startswith("/ws/"):
            return self._check_websocket(path, request, query)
        found = page(path)
        if found is not None:
            return found
        if path.startswith("/fonts/"):
            return self.fonts.get(path.removeprefix("/fonts/"))
        if path == "/healthz":
            return text_response(http.HTTPStatus.OK, "ok")
        if path == "/metrics":
            return self._metrics()
        if path == "/api/glossary":
            return json_response(self._glossary_forms())
        if path == "/api/status":
            return json_response(
                {
                    **self.session.status(),
                    "languages": self.languages,
                    "health": self.health.as_dict(),
                }
            )
        return text_response(http.HTTPStatus.NOT_FOUND, f"not found: {path}")

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

    def _metrics(self) -> Response:
        status = self.session.status()
        lines = [
            "# TYPE interp_listeners gauge",
            f"interp_listeners {status['listeners']}",
            "# TYPE interp_lag_seconds gauge",
            f"interp_lag_seconds {status['lag']}",
            "# TYPE interp_record_backlog_seconds gauge",
            f"interp_record_backlog_seconds {status['record_backlog_s']}",
            "# TYPE interp_messages_published_total counter",
            f"interp_messages_published_total {self.hub.published}",
            "# TYPE interp_listeners_disconnected_slow_total counter",
            f"interp_listeners_disconnected_slow_total {self.hub.disconnected_slow}",
            "# TYPE interp_requests_refused_total counter",
            f"interp_requests_refused_total {self.refused}",
            "# TYPE interp_session_running gauge",
            f"interp_session_running {int(status['running'])}",
        ]
        for name, value in self.health.counters().items():
            lines += [f"# TYPE interp_{name}_total counter", f"interp_{name}_total {value}"]
        return response(
            http.HTTPStatus.OK, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4"
        )

    def _check_websocket(
        self, path: str, request: Request, query: dict[str, list[str]]
    ) -> Response | None:
        if path == "/ws/captions":
            lang = query.get("lang", [SOURCE])[0]
            if lang != SOURCE and lang not in self.languages and lang not in WHISPER_LANGUAGES:
                self.access.refuse()
                listed = ", ".join([SOURCE, *self.languages])
                return text_response(
                    http.HTTPStatus.BAD_REQUEST,
                    f"unknown language {lang!r}: this session has {listed}",
                )
            since = query.get("since", [None])[0]
            if since is not None and not since.isdigit():
                self.access.refuse()
                return text_response(http.HTTPStatus.BAD_REQUEST, "since must be a sequence number")
            return None  # closed captions: the token comes in the header or as the first message
        if path in ("/ws/control", "/ws/audio"):
            if not self.access.origin_allowed(request.headers):
                self.access.refuse()
                return text_response(http.HTTPStatus.FORBIDDEN, "origin not allowed")
            return None  # the token comes in the header or as the first message
        self.access.refuse()
        return text_response(http.HTTPStatus.NOT_FOUND, f"no WebSocket endpoint {path}")

    # -- WebSockets --------------------------------------------------------------

    async def handler(self, connection: ServerConnection) -> None:
        path = urlsplit(connection.request.path if connection.request else "/").path
        try:
            if path == "/ws/captions":
                await serve_captions(connection, self.hub, self.access)
            elif path == "/ws/control":
                if await authenticate(connection, self.access, Role.OPERATOR, acknowledge=True):
                    await self.control.serve(connection)
            elif path == "/ws/audio":
                if await authenticate(connection, self.access, Role.OPERATOR, acknowledge=True):
                    await receive_floor_audio(connection, lambda: self.pushed)
        except ConnectionClosed:
            pass

    async def serve(self, host: str, port: int, ssl: Any = None) -> Server:
        """Listen on ``host:port``, once the fonts are in memory and the names are known.

        Both take blocking calls (file reads, name look-ups), made on a thread.
        """
        redact_logs(*self.access.secrets)
        extra = [name.strip() for name in self.settings.allowed_hosts.split(",")]
        names = await asyncio.to_thread(machine_names, host, extra)
        self.access.allow_hosts(names)
        await asyncio.to_thread(self.fonts.load)
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

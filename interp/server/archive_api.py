"""The archive over HTTP: ``/api/sessions…`` and ``/api/search``, read-only.

Every call opens the SQLite archive read-only and runs on a worker thread (the
caller uses ``asyncio.to_thread``), never on the event loop.  Who may call it is
decided before: see :mod:`interp.server.access`.
"""

from __future__ import annotations

import http
from pathlib import Path
from typing import TYPE_CHECKING

from websockets.http11 import Response

from ..errors import ArchiveError, ConfigError
from .responses import json_response, ranged, response

if TYPE_CHECKING:
    from ..archive.store import TextChoice


def is_archive_path(path: str) -> bool:
    return path == "/api/sessions" or path.startswith("/api/sessions/") or path == "/api/search"


def archive_response(
    archive_path: Path | None,
    path: str,
    query: dict[str, list[str]],
    byte_range: str | None = None,
) -> Response:
    """The answer to one archive request (blocking: call it on a thread)."""
    from ..archive.export import CONTENT_TYPES, export
    from ..archive.store import Archive

    if archive_path is None:
        return json_response(
            {"error": "this server keeps no archive (--archive)"}, http.HTTPStatus.NOT_FOUND
        )
    first = {key: values[0] for key, values in query.items() if values}
    try:
        archive = Archive(archive_path, readonly=True)
    except ArchiveError as exc:
        return json_response({"error": str(exc)}, http.HTTPStatus.SERVICE_UNAVAILABLE)
    try:
        if path == "/api/search":
            hits = archive.search(
                first.get("q", ""), session=first.get("session"), lang=first.get("lang"),
                speaker=first.get("speaker"), since=_number(first.get("from")),
                until=_number(first.get("to")), text_choice=_text_choice(first.get("text")),
            )  # fmt: skip
            return json_response([hit.to_dict() for hit in hits])
        parts = path.removeprefix("/api/sessions").strip("/").split("/")
        if parts == [""]:
            return json_response(archive.sessions())
        if len(parts) == 1:
            return json_response(archive.session(parts[0]))
        if len(parts) == 2 and parts[1] == "audio.ogg":
            audio = archive.audio_path(parts[0])
            if audio is None:
                return json_response(
                    {"error": "no audio kept for this session"}, http.HTTPStatus.NOT_FOUND
                )
            return ranged(audio.read_bytes(), "audio/ogg", byte_range)
        if len(parts) == 2 and parts[1].startswith("transcript."):
            fmt = parts[1].removeprefix("transcript.")
            lang = first.get("lang") or None
            session = archive.session(parts[0])
            if lang is not None and lang not in session["languages"]:
                # An empty file would look like a session where nothing was said.
                offered = ", ".join(session["languages"]) or "none"
                return json_response(
                    {"error": f"session {parts[0]} has no text in {lang!r} (it has: {offered})"},
                    http.HTTPStatus.NOT_FOUND,
                )
            text = _text_choice(first.get("text"))
            body = export(fmt, archive.transcript(parts[0], lang, text), session, lang, text)
            answer = response(http.HTTPStatus.OK, body, CONTENT_TYPES[fmt])
            name = f"{parts[0]}{'-' + lang if lang else ''}.{fmt}"
            answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
            return answer
        return json_response({"error": f"not found: {path}"}, http.HTTPStatus.NOT_FOUND)
    except ArchiveError as exc:
        status = (
            http.HTTPStatus.NOT_FOUND if "no session" in str(exc) else http.HTTPStatus.BAD_REQUEST
        )
        return json_response({"error": str(exc)}, status)
    except ConfigError as exc:
        return json_response({"error": str(exc)}, http.HTTPStatus.BAD_REQUEST)
    finally:
        archive.close()


def _text_choice(value: str | None) -> TextChoice:
    if value in (None, "", "record"):
        return "record"
    if value == "live":
        return "live"
    raise ConfigError(f"text={value!r}: use record (the default) or live")


def _number(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{value!r} is not a number (seconds since 1970)") from exc

"""HTTP responses the server builds: bodies with their headers, JSON, text, byte ranges."""

from __future__ import annotations

import http
import json
import re
from typing import Any

from websockets.datastructures import Headers
from websockets.http11 import Response


def response(
    status: http.HTTPStatus, body: bytes, content_type: str, cache: bool = False
) -> Response:
    headers = Headers()
    headers["Content-Type"] = content_type
    headers["Content-Length"] = str(len(body))
    headers["Cache-Control"] = "max-age=86400" if cache else "no-store"
    headers["X-Content-Type-Options"] = "nosniff"
    return Response(status.value, status.phrase, headers, body)


def json_response(data: Any, status: http.HTTPStatus = http.HTTPStatus.OK) -> Response:
    return response(status, json.dumps(data, ensure_ascii=False).encode(), "application/json")


def text_response(status: http.HTTPStatus, text: str) -> Response:
    return response(status, (text + "\n").encode(), "text/plain; charset=utf-8")


def ranged(body: bytes, kind: str, byte_range: str | None) -> Response:
    """A file, or the part of it a ``Range: bytes=a-b`` header asks for (players seek so)."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", byte_range or "")
    if not match or not (match.group(1) or match.group(2)):
        whole = response(http.HTTPStatus.OK, body, kind)
        whole.headers["Accept-Ranges"] = "bytes"
        return whole
    size = len(body)
    if match.group(1):
        start = int(match.group(1))
        end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
    else:
        start, end = max(0, size - int(match.group(2))), size - 1
    if start >= size or start > end:
        refused = text_response(http.HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "bad range")
        refused.headers["Content-Range"] = f"bytes */{size}"
        return refused
    part = response(http.HTTPStatus.PARTIAL_CONTENT, body[start : end + 1], kind)
    part.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    part.headers["Accept-Ranges"] = "bytes"
    return part

"""The pages, their static files, and the fonts, which are read once at start-up.

Pages and scripts are small and read when asked (an edit shows on reload).  The
fonts for Khmer, Arabic and Chinese are not: the CJK collection alone is 19.5 MB, and
every tablet of a Chinese session downloads it, so :class:`Fonts` reads them into
memory once, off the event loop, before the server listens.
"""

from __future__ import annotations

import http
import logging
import mimetypes
from collections.abc import Iterable
from pathlib import Path

from websockets.http11 import Response

from .responses import response, text_response

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


def web_file(root: Path, name: str) -> Response:
    """A file under ``root``; anything outside it, or missing, is a plain 404."""
    target = (root / name).resolve()
    if not target.is_relative_to(root.resolve()) or not target.is_file():
        return text_response(http.HTTPStatus.NOT_FOUND, "not found")
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript",):
        kind += "; charset=utf-8"
    return response(http.HTTPStatus.OK, target.read_bytes(), kind)


def page(path: str) -> Response | None:
    """The page or static file at ``path``, or None when the path is not one."""
    if path in PAGES:
        return web_file(WEB_ROOT, PAGES[path])
    if path.startswith("/static/"):
        return web_file(WEB_ROOT / "static", path.removeprefix("/static/"))
    return None


class Fonts:
    """The served fonts, held in memory: :meth:`load` reads them (blocking, once)."""

    def __init__(self, directories: Iterable[Path] = FONT_DIRS) -> None:
        self.directories = tuple(directories)
        self._files: dict[str, bytes] = {}

    def load(self) -> None:
        for name in FONTS:
            for directory in self.directories:
                try:
                    self._files[name] = (directory / name).read_bytes()
                    break
                except OSError:
                    continue
            else:
                logger.info("font %s is not installed (fonts-noto): pages fall back", name)

    def get(self, name: str) -> Response:
        if name not in FONTS:
            return text_response(http.HTTPStatus.NOT_FOUND, "not found")
        body = self._files.get(name)
        if body is None:
            return text_response(
                http.HTTPStatus.NOT_FOUND, f"font {name} is not installed (fonts-noto)"
            )
        kind = "font/collection" if name.endswith(".ttc") else "font/ttf"
        return response(http.HTTPStatus.OK, body, kind, cache=True)

"""Who may do what: the roles and their tokens, the Host and Origin checks, redacted logs.

Three roles hold tokens.  The **operator** token opens everything: control, pushed
audio, the archive and closed captions.  The **archivist** token opens the archive
only (its API, the session audio, the exports).  The **captions** token opens the
caption stream when captions are not open to the venue network.  :class:`Access`
answers questions about a request's headers and a token, and counts what it refuses;
:func:`authenticate` takes a token from a WebSocket's header or its first message.

Every request must name this server in its ``Host``: a web page on a name that
resolves to this machine (DNS rebinding) names its own host, and is refused.

Secrets never reach a log: :func:`redact_logs` installs one filter that replaces each
configured token, any ``Bearer …``, a ``{"token": …}``, a ``?token=…`` in a link and
an archive cookie by ``[redacted]`` in every record, at every level.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hmac
import ipaddress
import json
import logging
import os
import re
import secrets
import socket
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers

logger = logging.getLogger(__name__)

ARCHIVE_COOKIE = "interp_archive"
"""The cookie the archive page sets for what cannot send a header (``<audio>``, links)."""
REDACTED = "[redacted]"
AUTH_TIMEOUT_S = 5.0
"""How long a WebSocket without a token header has to send ``{"token": …}`` first."""
UNAUTHORISED = 4401
WILDCARD_HOSTS = ("", "0.0.0.0", "::")


class Role(enum.Enum):
    OPERATOR = "operator"
    ARCHIVIST = "archivist"
    CAPTIONS = "captions"


def kept_token(configured: str, path: Path) -> tuple[str, bool]:
    """The configured token, or the one generated once into ``path``; and whether it is new.

    A new token is written with mode 0600, so only this user can read it.
    """
    if configured:
        return configured, False
    with contextlib.suppress(OSError):
        existing = path.read_text(encoding="utf-8").strip()
        if existing:
            return existing, False
    token = secrets.token_urlsafe(18)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
    except OSError as exc:
        logger.warning("cannot keep a token in %s (%s); it holds for this run only", path, exc)
    return token, True


class Access:
    """The tokens of each role, and which names and origins this server answers to.

    Args:
        operator_token: opens every role.
        archive_token: opens the archive; empty: only the operator token does.
        captions_token: opens closed captions; empty: only the operator token does.
        open_archive: the archive is a public record and needs no token.
        open_captions: captions need no token.
        allowed_origins: browser origins allowed on control and audio besides the page's own.
    """

    def __init__(
        self,
        operator_token: str,
        archive_token: str = "",
        captions_token: str = "",
        *,
        open_archive: bool = False,
        open_captions: bool = True,
        allowed_origins: Iterable[str] = (),
    ) -> None:
        self._tokens = {
            Role.OPERATOR: operator_token,
            Role.ARCHIVIST: archive_token,
            Role.CAPTIONS: captions_token,
        }
        self.open_roles = {Role.ARCHIVIST} if open_archive else set()
        if open_captions:
            self.open_roles.add(Role.CAPTIONS)
        self.origins = {origin for origin in allowed_origins if origin}
        self.hosts: frozenset[str] = frozenset()
        """Names a request's ``Host`` may give (lower case, no port); set by :meth:`allow_hosts`."""
        self.refused = 0
        """Requests and connections refused, for any reason (``/metrics``)."""

    def refuse(self) -> None:
        self.refused += 1

    def token(self, role: Role) -> str:
        """The token configured for ``role`` (empty: none of its own)."""
        return self._tokens[role]

    @property
    def secrets(self) -> list[str]:
        return [token for token in self._tokens.values() if token]

    def allow_hosts(self, names: Iterable[str]) -> None:
        self.hosts = frozenset(_host_key(name) for name in names if name)

    # -- tokens ------------------------------------------------------------------

    def grants(self, token: str | None, role: Role) -> bool:
        """Whether ``token`` opens ``role``: its own token or the operator's."""
        if not token:
            return False
        given = token.encode()
        return any(
            expected and hmac.compare_digest(given, expected.encode())
            for expected in (self._tokens[role], self._tokens[Role.OPERATOR])
        )

    def is_open(self, role: Role) -> bool:
        return role in self.open_roles

    def allows(self, headers: Headers, role: Role, cookie: bool = False) -> bool:
        """Whether a request may act as ``role``: open, or a Bearer header (or the cookie)."""
        if self.is_open(role):
            return True
        if self.grants(bearer(headers), role):
            return True
        return cookie and self.grants(cookie_value(headers, ARCHIVE_COOKIE), role)

    # -- names -------------------------------------------------------------------

    def host_allowed(self, headers: Headers) -> bool:
        """Whether the request names this server: no ``Host``, or another name, is refused."""
        values = headers.get_all("Host")
        return len(values) == 1 and _host_key(values[0]) in self.hosts

    def origin_allowed(self, headers: Headers) -> bool:
        """A browser's ``Origin`` must be this page's own or configured; a script sends none."""
        origin = headers.get("Origin")
        if origin is None:
            return True  # not a browser: a floor device or a script, which has the token
        return urlsplit(origin).netloc == headers.get("Host", "") or origin in self.origins


async def authenticate(
    connection: ServerConnection, access: Access, role: Role, acknowledge: bool
) -> bool:
    """Whether the connection may act as ``role``; if not, it is closed with 4401.

    The token comes in an ``Authorization: Bearer`` header (scripts, devices) or as the
    first text message, ``{"token": "…"}``, within :data:`AUTH_TIMEOUT_S` (a browser
    cannot set headers on a WebSocket).  ``acknowledge`` answers a first-message token
    with ``{"ok": true, "authenticated": true}``; the caption stream sends nothing extra.
    """
    assert connection.request is not None
    if access.allows(connection.request.headers, role):
        return True
    token: object = ""
    try:
        first = await asyncio.wait_for(connection.recv(), AUTH_TIMEOUT_S)
        if isinstance(first, str):
            token = json.loads(first).get("token", "")
    except (TimeoutError, json.JSONDecodeError, AttributeError):
        token = ""
    if isinstance(token, str) and access.grants(token, role):
        if acknowledge:
            await connection.send(json.dumps({"ok": True, "authenticated": True}))
        return True
    access.refuse()
    await connection.close(UNAUTHORISED, "a valid token is needed")
    return False


def bearer(headers: Headers) -> str | None:
    value = headers.get("Authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None


def cookie_value(headers: Headers, name: str) -> str | None:
    for header in headers.get_all("Cookie"):
        for pair in header.split(";"):
            key, _, value = pair.strip().partition("=")
            if key == name and value:
                return unquote(value)
    return None


def _host_key(host: str) -> str:
    """``Host`` without its port, lower case, without brackets or a trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def machine_names(bound_host: str, extra: Iterable[str] = ()) -> set[str]:
    """Every name and address this machine is reached at, as far as the standard library tells.

    Loopback, the bound host (unless a wildcard), the host name, ``NAME.local`` (mDNS),
    the fully qualified name, the addresses those resolve to, the LAN address a route
    picks, every interface address Linux lists, and ``extra`` (``server.allowed_hosts``).
    Name look-ups can block: call this off the event loop.
    """
    names = {"localhost", "127.0.0.1", "::1", *extra}
    if bound_host not in WILDCARD_HOSTS:
        names.add(bound_host)
    hostname = socket.gethostname()
    names.update({hostname, f"{hostname}.local"})
    with contextlib.suppress(OSError):
        names.add(socket.getfqdn())
    for name in (hostname, f"{hostname}.local"):
        with contextlib.suppress(OSError, UnicodeError):
            names.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
    names.add(_routed_address())
    names.update(_interface_addresses())
    return {_host_key(name) for name in names if name}


def _routed_address() -> str:
    """The address other machines on the venue network reach this one at."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a route
        return str(probe.getsockname()[0])
    return "127.0.0.1"


def _interface_addresses() -> set[str]:
    """IPv4 addresses of every interface (an ioctl per name) and IPv6 from /proc (Linux)."""
    found: set[str] = set()
    if not sys.platform.startswith("linux"):
        return found
    import fcntl
    import struct

    siocgifaddr = 0x8915
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            with contextlib.suppress(OSError):
                request = struct.pack("256s", name.encode()[:15])
                answer = fcntl.ioctl(probe.fileno(), siocgifaddr, request)
                found.add(socket.inet_ntoa(answer[20:24]))
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            packed = bytes.fromhex(line.split()[0])
            found.add(str(ipaddress.IPv6Address(packed)))
    return found


# -- logs ----------------------------------------------------------------------

_PATTERNS = (
    re.compile(r"(Bearer\s+)[^\s'\",;]+", re.IGNORECASE),
    re.compile(r"(\"token\"\s*:\s*\")[^\"]*"),
    re.compile(rf"({ARCHIVE_COOKIE}=)[^;\s'\"]+"),
    re.compile(r"([?&]token=)[^&#\s'\"]+"),  # a captions link: /?token=…
)


class RedactingFilter(logging.Filter):
    """Replaces every secret in a record's message (and traceback) by ``[redacted]``.

    The message is formatted once here, so its arguments (a frame, a header) are
    redacted too; the record then carries the redacted text and no arguments.
    """

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(rf"\1{REDACTED}", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let the handler report it as usual
            return True
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FILTER = RedactingFilter()
LOGGERS_WITH_SECRETS = (
    "websockets",
    "websockets.server",
    "websockets.client",
    "interp.server.connections",
)
"""Loggers whose own records carry headers and frames (a logger's filter sees only them)."""


def redact_logs(*secrets_: str) -> RedactingFilter:
    """Keep ``secrets_`` (and any Bearer token) out of every log from now on.

    The one filter goes on the loggers that log headers and frames, and on every
    handler of the root logger, which each propagated record passes.  Calling again
    adds secrets and reaches handlers added since.
    """
    _FILTER.secrets.update(secret for secret in secrets_ if secret)
    for name in LOGGERS_WITH_SECRETS:
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    return _FILTER

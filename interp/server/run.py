"""``interp serve`` and ``interp demo``: build the pipeline and the server, run until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..archive.writer import ArchiveWriter
from ..asr.streaming import StreamingTranscriber
from ..audio.capture import is_mic_spec, microphone
from ..audio.source import AudioSource, FileSource, PushedAudioSource
from ..config import Settings
from ..errors import ConfigError
from ..glossary import Glossary
from ..health import Health
from ..pipeline.speech import load_speech_model
from ..pipeline.workers import ModelWorker
from ..translation.service import TranslationService
from ..translation.speech import SpeechModel
from ..wire import Message
from .access import Role, kept_token
from .app import CaptionServer
from .hub import Hub
from .session import LiveSession

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    source: str
    """An audio file, ``mic``, ``mic:DEVICE`` or ``ws``."""
    speed: float = 1.0
    loop: bool = False
    host: str | None = None
    port: int | None = None
    cert: Path | None = None
    key: Path | None = None
    autostart: bool = True
    archive: Path | None = None
    title: str | None = None
    """The first session's title; None: the room, date and time."""


def control_token(settings: Settings) -> tuple[str, bool]:
    """The configured token, or the one generated on first run; and whether it is new."""
    return kept_token(settings.server.token, settings.server.token_file)


def raise_open_files_limit() -> int:
    """Thousands of listeners need thousands of sockets: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
    return soft


def _tls(options: ServeOptions) -> ssl.SSLContext | None:
    if options.cert is None and options.key is None:
        return None
    if options.cert is None or options.key is None:
        raise ConfigError("TLS needs both --cert and --key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(options.cert, options.key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate or key: {exc}") from exc
    return context


def _source_factory(
    options: ServeOptions, settings: Settings, server_ref: list[CaptionServer], health: Health
) -> Callable[[], AudioSource]:
    spec = options.source
    if spec == "ws":

        def pushed() -> AudioSource:
            source = PushedAudioSource(settings.audio.pushed_queue_s, health)
            server_ref[0].pushed = source
            return source

        return pushed
    if is_mic_spec(spec):
        microphone(spec, settings.audio)  # fails now if no such device or channel
        return lambda: microphone(spec, settings.audio, health)
    FileSource(Path(spec), settings.audio.chunk_ms, options.speed)  # fails now if unreadable
    return lambda: FileSource(Path(spec), settings.audio.chunk_ms, options.speed, options.loop)


def _lan_address() -> str:
    """The address other machines on the venue network reach this one at."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a route
        return str(probe.getsockname()[0])
    return "127.0.0.1"


@dataclass(slots=True)
class Room:
    """One serving room, wired: the hub, its session, the server listening on ``port``."""

    hub: Hub
    session: LiveSession
    server: CaptionServer
    port: int
    health: Health


@contextlib.asynccontextmanager
async def open_room(
    settings: Settings,
    service: TranslationService,
    targets: list[str],
    glossary: Glossary,
    token: str,
    archive_path: Path,
    writer: ArchiveWriter,
    model: SpeechModel | None,
    worker: ModelWorker,
    make_source: Callable[[], AudioSource],
    health: Health,
    host: str,
    port: int,
    tls: ssl.SSLContext | None = None,
    server_ref: list[CaptionServer] | None = None,
    on_message: Callable[[Message], None] | None = None,
    make_transcriber: Callable[[], StreamingTranscriber] | None = None,
) -> AsyncIterator[Room]:
    """Hub, session and server wired as ``interp serve`` runs them, listening.

    The fault tests (``tests/faults/room.py``) run this same wiring with a scripted
    source and recogniser.  On leaving, the session stops gracefully.
    """
    server_ref = [] if server_ref is None else server_ref
    hub = Hub(settings.server.outbox_limit, settings.server.history_limit)
    hub.on_publish.append(writer.put)
    if on_message is not None:
        hub.on_publish.append(on_message)
    session = LiveSession(
        settings, hub, model, worker, service, targets, glossary, make_source,
        audio_dir=archive_path.parent / "audio", make_transcriber=make_transcriber,
        health=health,
    )  # fmt: skip
    floor = [settings.asr.language] if settings.asr.language else []
    languages = list(dict.fromkeys([*floor, *targets]))
    archive_token, archive_token_new = kept_token(
        settings.server.archive_token, settings.server.archive_token_file
    )
    server = CaptionServer(
        settings.server, hub, session, token, languages, glossary, archive_path,
        archive_token=archive_token, health=health,
    )  # fmt: skip
    server.archive_token_new = archive_token_new
    server_ref.append(server)
    async with await server.serve(host, port, tls) as listening:
        bound = listening.sockets[0].getsockname()[1]
        status_task = asyncio.create_task(_publish_status(hub, session, settings))
        try:
            yield Room(hub, session, server, bound, health)
        finally:
            status_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await status_task
            await session.aclose()


async def serve_forever(
    settings: Settings,
    options: ServeOptions,
    service: TranslationService,
    targets: list[str],
    glossary: Glossary,
    on_message: Callable[[Message], None] | None = None,
    ready: Callable[[str, int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the server until ``stop`` is set (or until cancelled); ``ready(host, port)``
    is called once it listens.  Either way the session ends gracefully."""
    health = Health()
    raise_open_files_limit()
    token, new = control_token(settings)
    tls = _tls(options)
    server_ref: list[CaptionServer] = []
    make_source = _source_factory(options, settings, server_ref, health)
    archive_path = options.archive or settings.server.archive
    writer = ArchiveWriter(  # a clear error now if it cannot be written
        archive_path, health=health, retry_limit=settings.server.archive_retry_limit,
        retry_max_s=settings.server.archive_retry_max_s,
        close_timeout_s=settings.server.archive_close_timeout_s,
    )  # fmt: skip
    worker = ModelWorker("speech")
    try:
        model = await worker.run(load_speech_model, settings)
        host = options.host or settings.server.host
        port = settings.server.port if options.port is None else options.port
        async with open_room(
            settings, service, targets, glossary, token, archive_path, writer, model, worker,
            make_source, health, host, port, tls, server_ref, on_message,
        ) as room:  # fmt: skip
            session, bound = room.session, room.port
            scheme = "https" if tls else "http"
            shown_token = (
                f"(new, kept in {settings.server.token_file}): {token}"
                if new
                else f"in {settings.server.token_file}"
                if not settings.server.token
                else "as configured (--token or server.token)"
            )
            if settings.server.open_archive:
                shown_archive = "none: the archive is open (--open-archive)"
            elif room.server.archive_token_new:
                archive_file = settings.server.archive_token_file
                archive_token = room.server.access.token(Role.ARCHIVIST)
                shown_archive = f"(new, kept in {archive_file}): {archive_token}"
            elif settings.server.archive_token:
                shown_archive = "as configured (server.archive_token)"
            else:
                shown_archive = f"in {settings.server.archive_token_file}"
            shown = _lan_address() if host in ("0.0.0.0", "::", "") else host
            base = f"{scheme}://{shown}:{bound}"
            print(
                f"interp: serving on {base}\n"
                f"  delegates:    {base}/\n"
                f"  interpreters: {base}/interpreter\n"
                f"  operator:     {base}/operator\n"
                f"  archivists:   {base}/archive   (archive: {archive_path})\n"
                f"  operator token {shown_token}\n"
                f"  archivist token {shown_archive}",
                file=sys.stderr,
                flush=True,
            )
            if ready is not None:
                ready(host, bound)
            if options.autostart:
                session.start(options.title)
            await (stop.wait() if stop is not None else asyncio.Future())
    finally:
        # Joining threads blocks: never on the loop.
        await asyncio.to_thread(worker.close)
        await asyncio.to_thread(writer.close)


async def _publish_status(hub: Hub, session: LiveSession, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.server.status_every_s)
        # Only while a session runs: the message's own session is the one it speaks of.
        if session.stamper is not None and session.running:
            status = session.status()
            dropped = ("speaker", "agenda_item", "session")
            fields = {k: v for k, v in status.items() if k not in dropped}
            hub.publish(session.stamper.status_message(session.received_s, fields))


def run(
    settings: Settings,
    options: ServeOptions,
    service: TranslationService,
    targets: list[str],
    glossary: Glossary,
    on_message: Callable[[Message], None] | None = None,
) -> Any:
    """Serve until Ctrl-C or SIGTERM, which both stop the session gracefully (exit 0)."""

    async def until_signalled() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()

        def on_signal() -> None:
            if stop.is_set() and main is not None:
                main.cancel()  # a second signal: stop waiting for the graceful end
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, on_signal)
        try:
            await serve_forever(
                settings, options, service, targets, glossary, on_message, stop=stop
            )
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)

    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(until_signalled())

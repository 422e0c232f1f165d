"""A real room for fault tests: ``interp serve``'s own wiring, with scripted speech.

:func:`open_test_room` runs :func:`interp.server.run.open_room` — the very function
``serve_forever`` uses — on 127.0.0.1 port 0, with a real :class:`Hub`,
:class:`LiveSession`, :class:`CaptionServer` and :class:`ArchiveWriter` on a
temporary SQLite file.  Only the speech is scripted: the audio comes from a
:class:`ScriptedSource` the test pushes to (it survives pipeline restarts and can
pause mid-utterance), and the transcriber is a real :class:`StreamingTranscriber`
over ``tests/fakes.py``'s :class:`FakeRecognizer` and :class:`FakeSpeechProb`.

Use it like this::

    script = ScriptBuilder().silence_ms(300).sentence("Good morning all.", pause_ms=900).build()
    async with open_test_room(tmp_path, script, translators=[Suffixer()]) as room:
        async with room.listen("es") as spanish:
            room.session.start()
            room.source.push(script.audio)
            await spanish.until(lambda m: m["type"] == "translation", "a translation")
            await room.session.stop()
    room.archived_finals()  # {segment: text}, read after the writer closed

``make_recognizer`` replaces the recogniser (wrap a :class:`FakeRecognizer` to make it
raise or hang), ``make_source`` the audio source; every message published is in
``room.published``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from interp import config
from interp.archive.store import Archive
from interp.archive.writer import ArchiveWriter
from interp.asr.base import Recognizer
from interp.asr.streaming import StreamingTranscriber
from interp.audio.source import AudioChunk, AudioSource
from interp.glossary import Glossary
from interp.health import Health
from interp.pipeline.workers import ModelWorker
from interp.server.run import Room, open_room
from interp.translation.base import PairInfo, Translator
from interp.translation.service import TranslationService
from interp.wire import Message

from ..deadlines import Deadline
from ..fakes import SAMPLE_RATE, FakeRecognizer, FakeSpeechProb, Script

TOKEN = "fault-token"
CHUNK = SAMPLE_RATE // 10


class ScriptedSource:
    """Audio the test pushes; one object across restarts, so a restart resumes it."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[np.ndarray[Any, Any] | None] = asyncio.Queue()
        self._sent = 0

    def push(self, audio: np.ndarray[Any, Any], chunk: int = CHUNK) -> None:
        for start in range(0, len(audio), chunk):
            self._queue.put_nowait(audio[start : start + chunk].astype(np.float32))

    def end(self) -> None:
        self._queue.put_nowait(None)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        while (samples := await self._queue.get()) is not None:
            yield AudioChunk(samples, self._sent / SAMPLE_RATE)
            self._sent += len(samples)
            await asyncio.sleep(0)  # the pace of a live source: one chunk per loop turn


class Suffixer:
    """A translator into any of ``targets`` from English: ``"text [es]"``."""

    name = "suffixer"

    def __init__(self, targets: Sequence[str] = ("es", "fr")) -> None:
        self.targets = list(targets)
        self.calls: list[tuple[list[str], str]] = []

    def pairs(self) -> list[PairInfo]:
        return [PairInfo("en", t, self.name, "test") for t in self.targets]

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.calls.append((texts, target))
        return [f"{text} [{target}]" for text in texts]

    def close(self) -> None:
        pass


class Listener:
    """A caption client that keeps every message it receives."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.received: list[dict[str, Any]] = []

    async def until(
        self, done: Callable[[dict[str, Any]], bool], what: str, seconds: float = 20.0
    ) -> dict[str, Any]:
        """The first message (already received or next) for which ``done`` holds."""
        for message in self.received:
            if done(message):
                return message
        deadline = Deadline(seconds)
        while True:
            try:
                raw = await asyncio.wait_for(self.socket.recv(), deadline.remaining())
            except TimeoutError:
                kinds = [m["type"] for m in self.received][-20:]
                raise AssertionError(
                    f"not within {deadline.allowed:.0f} s: {what} ({kinds})"
                ) from None
            message = json.loads(raw)
            self.received.append(message)
            if done(message):
                return message

    async def drain(self, what: str = "the session's end", seconds: float = 20.0) -> None:
        """Receive until the session says it ended."""
        await self.until(
            lambda m: m["type"] == "session" and m.get("state") == "ended", what, seconds
        )

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["type"] == kind]


@dataclass
class TestRoom:
    room: Room
    source: ScriptedSource
    archive_path: Path
    published: list[Message] = field(default_factory=list)

    @property
    def session(self) -> Any:
        return self.room.session

    @property
    def health(self) -> Health:
        return self.room.health

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.room.port}"

    @contextlib.asynccontextmanager
    async def listen(self, lang: str = "source", resume: str = "") -> AsyncIterator[Listener]:
        """A caption client; ``resume`` is the rest of its query (``&since=…&session=…``)."""
        url = f"{self.url}/ws/captions?lang={lang}{resume}"
        async with connect(url, max_size=None) as socket:
            await asyncio.sleep(0)
            yield Listener(socket)

    def published_messages(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.published]

    def published_finals(self) -> dict[str, str]:
        return {str(m.segment): str(m.text) for m in self.published if m.type == "final"}

    def archived_finals(self) -> dict[str, str]:
        """``{segment: text}`` of every final in the archive (read it after the room closed)."""
        archive = Archive(self.archive_path, readonly=True)
        try:
            return dict(archive.db.execute("SELECT segment, text FROM segments").fetchall())
        finally:
            archive.close()

    def archived_state(self, session: str) -> str:
        archive = Archive(self.archive_path, readonly=True)
        try:
            row = archive.db.execute("SELECT state FROM sessions WHERE id = ?", (session,))
            return str(row.fetchone()[0])
        finally:
            archive.close()


def fake_transcriber(recognizer: Recognizer, settings: config.Settings) -> StreamingTranscriber:
    return StreamingTranscriber(recognizer, FakeSpeechProb(), settings.asr, settings.vad)


@contextlib.asynccontextmanager
async def open_test_room(
    tmp_path: Path,
    script: Script,
    translators: Sequence[Translator] = (),
    targets: Sequence[str] = (),
    overrides: dict[str, Any] | None = None,
    make_recognizer: Callable[[], Recognizer] | None = None,
    make_source: Callable[[Health], AudioSource] | None = None,
) -> AsyncIterator[TestRoom]:
    """The room, listening; on leaving it the session stops and the writer is closed.

    ``make_source`` replaces the scripted source by another (a microphone over a fake
    sounddevice), built with the room's :class:`Health` at each session start.
    """
    settings = config.load(
        environ={},
        overrides={"server.token": TOKEN, "asr.language": "en", **(overrides or {})},
    )
    service = TranslationService(list(translators))
    archive_path = tmp_path / "archive.sqlite"
    health = Health()
    writer = ArchiveWriter(archive_path, health=health)
    worker = ModelWorker("speech")
    source = ScriptedSource()
    recognizer = make_recognizer or (lambda: FakeRecognizer.for_script(script))
    published: list[Message] = []
    try:
        async with open_room(
            settings, service, list(targets), Glossary(), TOKEN, archive_path, writer,
            None, worker,
            (lambda: make_source(health)) if make_source else (lambda: source),
            health, "127.0.0.1", 0,
            on_message=published.append,
            make_transcriber=lambda: fake_transcriber(recognizer(), settings),
        ) as room:  # fmt: skip
            yield TestRoom(room, source, archive_path, published)
    finally:
        await worker.aclose()
        await asyncio.to_thread(writer.close)
        service.close()

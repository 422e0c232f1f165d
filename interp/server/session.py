"""A live session: source → recognition → translation → the hub, started and stopped.

One recogniser serves the whole room: the pipeline runs once per session, whatever the
number of listeners.  The operator starts and stops sessions and sets the speaker and
agenda item, which stamp every message from then on.

A stop is graceful: the source ends, recognition flushes the open utterance into a
final, the translation stage drains, all within ``server.stop_timeout_s``; past it
the rest is cut off and every final still owed a translation gets an error for that
target.  The pipeline is supervised: any exception is published as an ``error``,
counted, and the pipeline restarts with backoff in the same session, with a fresh
transcriber (an ``InputError`` of a source that cannot be opened ends the session).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..archive.recorder import AudioRecorder
from ..asr.faster_whisper import record_words
from ..asr.streaming import StreamingTranscriber
from ..audio.source import AudioChunk, AudioSource
from ..config import SAMPLE_RATE, Settings
from ..errors import InputError, InterpError, ModelUnavailable
from ..events import CommittedSegment, TextEvent
from ..glossary import Glossary
from ..health import Health
from ..pipeline.live import run_live, shifted
from ..pipeline.record import RecordFeed, RecordPass
from ..pipeline.speech import new_transcriber
from ..pipeline.workers import ModelWorker
from ..translation.service import TranslationService
from ..translation.speech import SessionAudio, SpeechModel, SpeechTranslator
from ..translation.stage import TranslationResult, TranslationStage
from ..wire import Stamper, new_session_id
from .hub import Hub

logger = logging.getLogger(__name__)


def _leaves(error: BaseException) -> Iterator[BaseException]:
    """The exceptions inside (nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


def _readable(error: BaseException) -> str:
    """What the operator reads: our own errors as they are, others with their kind."""
    if isinstance(error, InterpError):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def default_title(room: str, wall_time: float) -> str:
    """An untitled session's title, as an archivist looks for it: room, date and time."""
    started = datetime.fromtimestamp(wall_time)
    when = f"{started.day} {started:%B %Y}, {started:%H:%M}"
    return f"{room}, {when}" if room else f"Session of {when}"


class LiveSession:
    """Runs the pipeline for one session at a time and publishes into the hub."""

    def __init__(
        self,
        settings: Settings,
        hub: Hub,
        model: SpeechModel | None,
        worker: ModelWorker,
        service: TranslationService,
        targets: list[str],
        glossary: Glossary,
        make_source: Callable[[], AudioSource],
        audio_dir: Path | None = None,
        *,
        make_transcriber: Callable[[], StreamingTranscriber] | None = None,
        health: Health | None = None,
    ) -> None:
        self.audio_dir = audio_dir
        self.settings = settings
        self.hub = hub
        self.model = model
        self.worker = worker
        self.service = service
        self.targets = targets
        self.glossary = glossary
        self.make_source = make_source
        self.make_transcriber = make_transcriber or self._new_transcriber
        """A fresh streaming core; run on the speech worker at each (re)start."""
        self.health = health or Health()
        self.stamper: Stamper | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._stop_task: asyncio.Task[None] | None = None
        self.received_s = 0.0
        self.recognised_s = 0.0
        self.level_dbfs = -120.0
        self.started_wall: float | None = None
        self.speaker: str | None = None
        self.agenda_item: str | None = None
        self.restarts = 0
        """Restarts of this session's pipeline after a fault."""
        self.record = self._new_record_pass()
        """Every session's record pass; it outlives each (see :meth:`aclose`)."""

    def _new_record_pass(self) -> RecordPass | None:
        model, asr = self.model, self.settings.asr
        if model is None or not asr.record_pass:
            return None
        return RecordPass(
            lambda audio, lang, prompt, end: record_words(model, audio, lang, prompt, end, asr),
            self.service, self.glossary, self.targets, lambda: self.received_s,
            backlog_s=asr.record_backlog_s, gap_s=asr.record_gap_s, wait_s=asr.record_wait_s,
            max_s=asr.record_max_s, pad_s=asr.record_pad_s, min_share=asr.record_min_share,
            prompt_chars=asr.prompt_chars,
            health=self.health,
        )  # fmt: skip

    async def aclose(self) -> None:
        """Stop the session, then give the record pass's backlog its deadline."""
        await self.stop()
        if self.record is not None:
            await self.record.aclose(self.settings.server.stop_timeout_s)

    def _new_transcriber(self) -> StreamingTranscriber:
        if self.model is None:
            raise ModelUnavailable("no speech model is loaded")
        return new_transcriber(self.settings, self.model)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def lag_s(self) -> float:
        return max(0.0, self.received_s - self.recognised_s)

    def start(self, title: str | None = None) -> str:
        if self.running:
            raise InterpError("a session is already running; stop it first")
        self.stamper = Stamper(new_session_id())
        self.stamper.speaker, self.stamper.agenda_item = self.speaker, self.agenda_item
        self.received_s = self.recognised_s = 0.0
        self.restarts = 0
        self.started_wall = time.time()
        started = self.stamper.session_message("started", 0.0)
        extra = {**started.extra, "wall_time": self.started_wall, "languages": self.targets}
        if self.audio_dir is not None:
            extra["audio"] = str(self.audio_dir / f"{self.stamper.session}.ogg")
        extra["title"] = title or default_title(self.settings.server.room, self.started_wall)
        self.hub.publish(replace(started, extra=extra))
        self._stopping = asyncio.Event()
        self._stop_task = None
        self._task = asyncio.create_task(self._run(self.stamper, self._stopping), name="session")
        return self.stamper.session

    async def stop(self) -> None:
        """End the session gracefully (see the module docstring).

        Never raises; a second stop, or a stop with no session, does nothing more.
        """
        task = self._task
        if task is None:
            return
        if self._stop_task is None:
            self._stop_task = asyncio.create_task(self._stop(task), name="session-stop")
        # A cancelled caller does not cut the stop short: it ends on its own timeout.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(self._stop_task)

    async def _stop(self, task: asyncio.Task[None]) -> None:
        try:
            self._stopping.set()
            timeout = self.settings.server.stop_timeout_s
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                logger.warning("the session did not end within %.1f s of the stop", timeout)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            elif not task.cancelled() and task.exception() is not None:
                logger.error("session ended with an error", exc_info=task.exception())
        except Exception:  # noqa: BLE001 - a stop never fails the caller
            logger.exception("stopping the session")
        finally:
            if self._task is task:
                self._task = None

    def set_speaker(self, name: str | None) -> None:
        self.speaker = name or None
        if self.stamper is not None:
            self.stamper.speaker = self.speaker

    def set_agenda_item(self, item: str | None) -> None:
        self.agenda_item = item or None
        if self.stamper is not None:
            self.stamper.agenda_item = self.agenda_item

    def status(self) -> dict[str, Any]:
        return {
            "session": self.stamper.session if self.stamper and self.running else None,
            "running": self.running,
            "lag": round(self.lag_s, 2),
            "audio_s": round(self.received_s, 1),
            "level_dbfs": round(self.level_dbfs, 1),
            "listeners": len(self.hub.listeners),
            "model": self.settings.asr.model,
            "targets": self.targets,
            "floor_language": self.settings.asr.language,
            "speaker": self.speaker,
            "agenda_item": self.agenda_item,
            "restarts": self.restarts,
            "record_backlog_s": round(self.record.backlog_s, 1) if self.record else 0.0,
            "last_error": self.health.last_error,
        }

    async def _run(self, stamper: Stamper, stopping: asyncio.Event) -> None:
        recorder = self._open_recorder(stamper)
        recent = SessionAudio()
        speech = (
            SpeechTranslator(self.model, self.settings.asr, recent.slice, self.glossary.prompt())
            if self.model is not None
            else None
        )

        record = (
            self.record.feed(
                stamper.session,
                lambda start, end: recent.slice(start, min(end, self.received_s)),
                lambda text: self.hub.archive(stamper.stamp_record(text)),
            )
            if self.record is not None
            else None
        )

        def on_translation(result: TranslationResult) -> None:
            self.hub.publish(stamper.stamp_result(result))

        stage = TranslationStage(
            self.service,
            self.glossary,
            self.targets,
            on_translation,
            lambda: self.received_s,
            warm_from=self.settings.asr.language or "en",
            speech=speech,
            queue_limit=self.settings.translation.queue_limit,
            health=self.health,
        )

        def on_audio(chunk: AudioChunk) -> None:
            self.received_s += len(chunk.samples) / SAMPLE_RATE
            recent.append(chunk.samples)
            if record is not None:
                record.tick(self.received_s)
            if recorder is not None:
                recorder.write(chunk.samples)
            power = float(np.mean(np.square(chunk.samples))) if len(chunk.samples) else 0.0
            self.level_dbfs = 10 * math.log10(max(power, 1e-12))

        translating = asyncio.create_task(stage.run(), name="translation")
        try:
            await self._recognise_supervised(stamper, stage, record, on_audio, stopping)
            if record is not None:
                record.flush()  # the last utterance is over
            stage.finish()
            try:
                await translating
            except Exception as exc:  # noqa: BLE001 - reported, and the session still ends
                self._report(stamper, "translation", exc)
        finally:
            if not translating.done():  # cut off by the stop's timeout
                translating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await translating
            stage.fail_owed("the session stopped before this final was translated")
            if recorder is not None:
                await asyncio.to_thread(recorder.close)
            ended = stamper.session_message("ended", self.received_s)
            extra = {**ended.extra, "wall_time": time.time()}
            self.hub.publish(replace(ended, extra=extra))

    def _open_recorder(self, stamper: Stamper) -> AudioRecorder | None:
        if self.audio_dir is None:
            return None
        try:
            return AudioRecorder(
                self.audio_dir / f"{stamper.session}.ogg",
                queue_chunks=self.settings.audio.recorder_queue_chunks,
                health=self.health,
            )
        except Exception as exc:  # noqa: BLE001 - captions go on without the recording
            self._report(stamper, "recorder", exc)
            return None

    def _report(self, stamper: Stamper, stage: str, error: BaseException) -> None:
        text = _readable(error)
        logger.error("%s: %s", stage, text, exc_info=error)
        self.health.count("pipeline_errors", error=text)
        self.hub.publish(stamper.error_message(stage, text, self.received_s))

    async def _recognise_supervised(
        self,
        stamper: Stamper,
        stage: TranslationStage,
        record: RecordFeed | None,
        on_audio: Callable[[AudioChunk], None],
        stopping: asyncio.Event,
    ) -> None:
        """Recognise until the source ends or the stop; restart after any fault."""
        backoff = self.settings.server.restart_backoff_s
        first_segment = 0
        while True:
            offset_s = self.received_s  # a fresh transcriber counts from here
            progressed = False

            def on_event(
                event: TextEvent, at: float, offset_s: float = offset_s, first: int = first_segment
            ) -> None:
                event = shifted(event, offset_s, first)
                self.hub.publish(stamper.stamp(event, offset_s + at))
                if isinstance(event, CommittedSegment):
                    stage.submit(event)
                if record is not None:
                    if isinstance(event, CommittedSegment):
                        record.final(event)
                    else:
                        record.partial(event)

            def on_progress(fed_s: float, offset_s: float = offset_s) -> None:
                nonlocal progressed
                progressed = True
                self.recognised_s = offset_s + fed_s

            transcriber: StreamingTranscriber | None = None
            try:
                transcriber = await self.worker.run(self.make_transcriber)
                await run_live(
                    self.make_source(),
                    transcriber,
                    self.worker,
                    on_event,
                    self.settings.audio.queue_chunks,
                    on_audio=on_audio,
                    on_progress=on_progress,
                    stop=stopping,
                )
                return
            except Exception as fault:  # noqa: BLE001 - supervision: any fault is reported
                errors = list(_leaves(fault))
                for error in errors:
                    self._report(stamper, "pipeline", error)
                if any(isinstance(error, InputError) for error in errors) or stopping.is_set():
                    return  # the source cannot be opened, or the session is ending anyway
            if transcriber is not None:
                first_segment += transcriber.next_segment
            if progressed:
                backoff = self.settings.server.restart_backoff_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), backoff)
            if stopping.is_set():
                return
            backoff = min(backoff * 2, self.settings.server.restart_backoff_max_s)
            self.restarts += 1
            self.health.count("pipeline_restarts")
            logger.warning("restarting the pipeline of session %s", stamper.session)

"""A live session: source → recognition → translation → the hub, started and stopped.

One recogniser serves the whole room: the pipeline runs once per session, whatever the
number of listeners.  The operator starts and stops sessions and sets the speaker and
agenda item, which stamp every message from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..archive.recorder import AudioRecorder
from ..audio.source import AudioChunk, AudioSource
from ..config import SAMPLE_RATE, Settings
from ..errors import InterpError
from ..events import CommittedSegment
from ..glossary import Glossary
from ..pipeline.live import run_live
from ..pipeline.speech import new_transcriber
from ..pipeline.workers import ModelWorker
from ..translation.service import TranslationService
from ..translation.speech import SessionAudio, SpeechTranslator
from ..translation.stage import TranslationResult, TranslationStage
from ..wire import Stamper, new_session_id
from .hub import Hub

logger = logging.getLogger(__name__)


class LiveSession:
    """Runs the pipeline for one session at a time and publishes into the hub."""

    def __init__(
        self,
        settings: Settings,
        hub: Hub,
        model: Any,
        worker: ModelWorker,
        service: TranslationService,
        targets: list[str],
        glossary: Glossary,
        make_source: Callable[[], AudioSource],
        audio_dir: Path | None = None,
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
        self.stamper: Stamper | None = None
        self._task: asyncio.Task[None] | None = None
        self.received_s = 0.0
        self.recognised_s = 0.0
        self.level_dbfs = -120.0
        self.started_wall: float | None = None
        self.speaker: str | None = None
        self.agenda_item: str | None = None

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
        self.started_wall = time.time()
        started = self.stamper.session_message("started", 0.0)
        extra = {**started.extra, "wall_time": self.started_wall, "languages": self.targets}
        if self.audio_dir is not None:
            extra["audio"] = str(self.audio_dir / f"{self.stamper.session}.ogg")
        if title:
            extra["title"] = title
        self.hub.publish(replace(started, extra=extra))
        self._task = asyncio.create_task(self._run(self.stamper), name="session")
        return self.stamper.session

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
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
            "speaker": self.speaker,
            "agenda_item": self.agenda_item,
        }

    async def _run(self, stamper: Stamper) -> None:
        recorder = (
            AudioRecorder(self.audio_dir / f"{stamper.session}.ogg") if self.audio_dir else None
        )
        recent = SessionAudio()
        speech = SpeechTranslator(
            self.model, self.settings.asr, recent.slice, self.glossary.prompt()
        )
        transcriber = await self.worker.run(new_transcriber, self.settings, self.model)

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
        )

        def on_event(event: Any, at: float) -> None:
            self.hub.publish(stamper.stamp(event, at))
            if isinstance(event, CommittedSegment):
                stage.submit(event)

        def on_audio(chunk: AudioChunk) -> None:
            self.received_s += len(chunk.samples) / SAMPLE_RATE
            recent.append(chunk.samples)
            if recorder is not None:
                recorder.write(chunk.samples)
            power = float(np.mean(np.square(chunk.samples))) if len(chunk.samples) else 0.0
            self.level_dbfs = 10 * math.log10(max(power, 1e-12))

        def on_progress(fed_s: float) -> None:
            self.recognised_s = fed_s

        async def recognise() -> None:
            try:
                await run_live(
                    self.make_source(),
                    transcriber,
                    self.worker,
                    on_event,
                    self.settings.audio.queue_chunks,
                    on_audio=on_audio,
                    on_progress=on_progress,
                )
            finally:
                stage.finish()

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(recognise())
                group.create_task(stage.run())
        except* InterpError as errors:
            for error in errors.exceptions:
                logger.error("session stopped: %s", error)
                self.hub.publish(stamper.error_message("pipeline", str(error), self.received_s))
        finally:
            if recorder is not None:
                recorder.close()
            ended = stamper.session_message("ended", self.received_s)
            extra = {**ended.extra, "wall_time": time.time()}
            self.hub.publish(replace(ended, extra=extra))

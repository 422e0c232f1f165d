"""Where translation happens: finals in, one translation per final and target out.

Partials are never translated.  The work runs on the translation worker thread; finals
that arrived while it was busy are translated together, one batch per target
language.  A failing backend yields a :class:`TranslationFailed` for that target and
the other languages, and the source captions, go on.  The queue is bounded
(``translation.queue_limit``); a final it cannot take gets its errors at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..errors import ConfigError, InterpError
from ..events import CommittedSegment, Translation, TranslationFailed
from ..glossary import Glossary
from ..health import Health
from ..pipeline.workers import ModelWorker
from .service import PIVOT, TranslationService, check_language
from .speech import SpeechTranslator

logger = logging.getLogger(__name__)

TranslationResult = Translation | TranslationFailed


def check_targets(
    service: TranslationService,
    targets: list[str],
    source: str | None,
    speech: bool = False,
) -> list[str]:
    """Validate target codes up front: each must be reachable from the floor language.

    With ``speech``, English, and whatever English reaches, is reachable from any floor
    language: Whisper translates the speech into English.
    """
    checked = []
    for target in dict.fromkeys(check_language(t) for t in targets if t.strip()):
        if speech and (target == PIVOT or service.route(PIVOT, target) is not None):
            pass  # English from the speech itself, then on from English
        elif source is not None:
            if target != source:
                service.require(source, target)
        elif target not in service.languages():
            raise ConfigError(f"no installed translation into {target}; see `interp models list`")
        checked.append(target)
    return checked


def translate_finals(
    service: TranslationService,
    glossary: Glossary,
    finals: list[CommittedSegment],
    targets: list[str],
    now: Callable[[], float],
    speech: SpeechTranslator | None = None,
) -> list[TranslationResult]:
    """Translate each final into each target once; a final already in a target is skipped.

    ``now()`` gives the session-audio clock, read as each batch completes.  When no
    text engine leaves the floor language and ``speech`` is given, the speech itself is
    translated into English, and English is the pivot into the other targets.
    """
    results: list[TranslationResult] = []
    english: dict[int, str | InterpError] = {}  # each final's audio is decoded once
    for target in targets:
        for source in dict.fromkeys(final.lang for final in finals):
            if source == target:
                continue
            group = [final for final in finals if final.lang == source]
            if (
                speech is not None
                and service.route(source, target) is None
                and (target == PIVOT or service.route(PIVOT, target) is not None)
            ):
                results.extend(
                    _through_speech(service, glossary, speech, group, target, english, now)
                )
                continue
            try:
                texts = service.translate_with_glossary(
                    [final.text for final in group], source, target, glossary
                )
                backend = service.require(source, target).backend
            except InterpError as exc:
                logger.info("translation %s→%s failed: %s", source, target, exc)
                at = now()
                results.extend(TranslationFailed(f.segment, target, str(exc), at) for f in group)
                continue
            at = now()
            results.extend(
                Translation(f.segment, source, target, text, f.start, f.end, at, backend)
                for f, text in zip(group, texts, strict=True)
            )
    return results


def _through_speech(
    service: TranslationService,
    glossary: Glossary,
    speech: SpeechTranslator,
    finals: list[CommittedSegment],
    target: str,
    english: dict[int, str | InterpError],
    now: Callable[[], float],
) -> list[TranslationResult]:
    results: list[TranslationResult] = []
    for f in finals:
        if f.segment not in english:
            try:
                english[f.segment] = speech.translate(f.start, f.end, f.lang)
            except InterpError as exc:
                english[f.segment] = exc
        heard = english[f.segment]
        try:
            if isinstance(heard, InterpError):
                raise heard
            text, backend = heard, speech.name
            if target != PIVOT:
                (text,) = service.translate_with_glossary([heard], PIVOT, target, glossary)
                backend = f"{speech.name}+{service.require(PIVOT, target).backend}"
        except InterpError as exc:
            results.append(TranslationFailed(f.segment, target, str(exc), now()))
            continue
        results.append(Translation(f.segment, f.lang, target, text, f.start, f.end, now(), backend))
    return results


class TranslationStage:
    """The live shell: a bounded queue of finals, drained in batches on the translation worker.

    Every final is owed one result per target (a translation or a
    :class:`TranslationFailed`), and the stage keeps count of what it still owes: a
    final the full queue cannot take, a batch whose engine raised, and whatever is
    left when the stage is cut off (:meth:`fail_owed`) each get their error, so
    nothing is lost silently.
    """

    def __init__(
        self,
        service: TranslationService,
        glossary: Glossary,
        targets: list[str],
        emit: Callable[[TranslationResult], None],
        now: Callable[[], float],
        warm_from: str | None = None,
        speech: SpeechTranslator | None = None,
        queue_limit: int = 256,
        health: Health | None = None,
    ) -> None:
        self._speech = speech
        self._warm_from = warm_from
        self._service = service
        self._glossary = glossary
        self._targets = targets
        self._emit = emit
        self._now = now
        self._health = health or Health()
        self._queue_limit = queue_limit
        self._queue: asyncio.Queue[CommittedSegment | None] = asyncio.Queue()
        self._owed: dict[int, set[str]] = {}
        """Segment → the targets it has had no result for yet."""
        self._worker = ModelWorker("translation")

    @property
    def owed(self) -> int:
        """Results (final × target) still to come."""
        return sum(len(targets) for targets in self._owed.values())

    def submit(self, final: CommittedSegment) -> None:
        targets = [target for target in self._targets if target != final.lang]
        if not targets:
            return
        if self._queue.qsize() >= self._queue_limit:
            # Translation fell behind by a whole queue: say so now rather than wait.
            for target in targets:
                self._fail(final.segment, target, "translation fell behind; this final was skipped")
            return
        self._owed[final.segment] = set(targets)
        self._queue.put_nowait(final)

    async def run(self) -> None:
        """Translate until :meth:`finish` is called and the queue is empty."""
        try:
            if self._warm_from is not None:
                await self._worker.run(self._warm, self._warm_from)
            finished = False
            while not finished:
                batch = [await self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                finished = batch[-1] is None
                finals = [final for final in batch if final is not None]
                if finals:
                    await self._translate(finals)
        finally:
            # No wait: a hung engine keeps its thread, never the loop.
            self._worker.close(wait=False)

    async def _translate(self, finals: list[CommittedSegment]) -> None:
        try:
            results = await self._worker.run(
                translate_finals,
                self._service,
                self._glossary,
                finals,
                self._targets,
                self._now,
                self._speech,
            )
        except Exception as exc:  # noqa: BLE001 - an engine's bug fails its finals, not the stage
            logger.exception("translation of %d finals failed", len(finals))
            for final in finals:
                for target in sorted(self._owed.get(final.segment, ())):
                    self._fail(final.segment, target, f"translation failed: {exc}")
            return
        for result in results:
            owed = self._owed.get(result.segment)
            if owed is None or result.lang not in owed:
                continue  # already answered (cut off, or failed before)
            self._settle(result.segment, result.lang)
            if isinstance(result, TranslationFailed):
                self._health.count("translations_failed", error=result.reason)
            self._emit(result)

    def fail_owed(self, reason: str) -> None:
        """Give every final still owed a translation its :class:`TranslationFailed`."""
        for segment in list(self._owed):
            for target in sorted(self._owed.get(segment, ())):
                self._fail(segment, target, reason)

    def _settle(self, segment: int, target: str) -> None:
        owed = self._owed.get(segment)
        if owed is not None:
            owed.discard(target)
            if not owed:
                del self._owed[segment]

    def _fail(self, segment: int, target: str, reason: str) -> None:
        self._settle(segment, target)
        self._health.count("translations_failed", error=reason)
        self._emit(TranslationFailed(segment, target, reason, self._now()))

    def finish(self) -> None:
        self._queue.put_nowait(None)

    def _warm(self, source: str) -> None:
        """Start every engine before the first final, so it does not wait for them."""
        for target in self._targets:
            if target != source and self._service.route(source, target) is not None:
                try:
                    self._service.translate(["Good morning."], source, target)
                except InterpError as exc:
                    logger.warning("warming %s→%s failed: %s", source, target, exc)


class SimulatedTranslation:
    """Translation on the simulated clock of ``transcribe --stream``.

    One worker, as live: it starts on a final when the final is emitted or when it is
    done with the previous one, whichever is later, and takes the time it really takes.
    """

    def __init__(
        self,
        service: TranslationService,
        glossary: Glossary,
        targets: list[str],
        clock: Callable[[], float],
        speech: SpeechTranslator | None = None,
    ) -> None:
        self._speech = speech
        self._service = service
        self._glossary = glossary
        self._targets = targets
        self._clock = clock
        self._busy_until = 0.0

    def submit(self, final: CommittedSegment, emitted_at: float) -> list[TranslationResult]:
        self._busy_until = max(emitted_at, self._busy_until)
        began, begin = self._clock(), self._busy_until

        def now() -> float:
            self._busy_until = begin + self._clock() - began
            return round(self._busy_until, 3)

        return translate_finals(
            self._service, self._glossary, [final], self._targets, now, self._speech
        )

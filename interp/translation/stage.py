"""Where translation happens: finals in, one translation per final and target out.

Partials are never translated.  The work runs on the translation worker thread; finals
that arrived while it was busy are translated together, one batch per target
language.  A failing backend yields a :class:`TranslationFailed` for that target and
the other languages, and the source captions, go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from ..errors import ConfigError, InterpError
from ..events import CommittedSegment, Translation, TranslationFailed
from ..glossary import Glossary
from ..pipeline.workers import ModelWorker
from .service import TranslationService, check_language

logger = logging.getLogger(__name__)

TranslationResult = Translation | TranslationFailed


def check_targets(service: TranslationService, targets: list[str], source: str | None) -> list[str]:
    """Validate target codes up front: each must be reachable from the floor language."""
    checked = []
    for target in dict.fromkeys(check_language(t) for t in targets if t.strip()):
        if source is not None:
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
) -> list[TranslationResult]:
    """Translate each final into each target once; a final already in a target is skipped.

    ``now()`` gives the session-audio clock, read as each batch completes.
    """
    results: list[TranslationResult] = []
    for target in targets:
        for source in dict.fromkeys(final.lang for final in finals):
            if source == target:
                continue
            group = [final for final in finals if final.lang == source]
            try:
                texts = service.translate_with_glossary(
                    [final.text for final in group], source, target, glossary
                )
                backend = service.require(source, target).backend
            except InterpError as exc:
                logger.warning("translation %s→%s failed: %s", source, target, exc)
                at = now()
                results.extend(TranslationFailed(f.segment, target, str(exc), at) for f in group)
                continue
            at = now()
            results.extend(
                Translation(f.segment, source, target, text, f.start, f.end, at, backend)
                for f, text in zip(group, texts, strict=True)
            )
    return results


class TranslationStage:
    """The live shell: a queue of finals, drained in batches on the translation worker."""

    def __init__(
        self,
        service: TranslationService,
        glossary: Glossary,
        targets: list[str],
        emit: Callable[[TranslationResult], None],
        now: Callable[[], float],
    ) -> None:
        self._service = service
        self._glossary = glossary
        self._targets = targets
        self._emit = emit
        self._now = now
        self._queue: asyncio.Queue[CommittedSegment | None] = asyncio.Queue()
        self._worker = ModelWorker("translation")

    def submit(self, final: CommittedSegment) -> None:
        if self._targets:
            self._queue.put_nowait(final)

    async def run(self) -> None:
        """Translate until :meth:`finish` is called and the queue is empty."""
        try:
            finished = False
            while not finished:
                batch = [await self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                finished = batch[-1] is None
                finals = [final for final in batch if final is not None]
                if finals:
                    results = await self._worker.run(
                        translate_finals,
                        self._service,
                        self._glossary,
                        finals,
                        self._targets,
                        self._now,
                    )
                    for result in results:
                        self._emit(result)
        finally:
            self._worker.close()

    def finish(self) -> None:
        self._queue.put_nowait(None)


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
    ) -> None:
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

        return translate_finals(self._service, self._glossary, [final], self._targets, now)

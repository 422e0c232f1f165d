"""Where translation happens: once per final and target, batched, failures contained."""

from __future__ import annotations

import asyncio
import threading

from interp.errors import BackendError
from interp.events import CommittedSegment, Translation, TranslationFailed
from interp.glossary import Glossary
from interp.translation.base import PairInfo
from interp.translation.service import TranslationService
from interp.translation.stage import SimulatedTranslation, TranslationStage, translate_finals

from ..deadlines import scaled


class RecordingTranslator:
    """Upper-cases into ``xx``; fails for ``zz``; records every batch it is given."""

    name = "fake"

    def __init__(self) -> None:
        self.batches: list[tuple[str, str, list[str]]] = []
        self.threads: set[str] = set()

    def pairs(self) -> list[PairInfo]:
        return [PairInfo("en", t, self.name, "test") for t in ("xx", "zz", "fr")]

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        self.batches.append((source, target, list(texts)))
        self.threads.add(threading.current_thread().name)
        if target == "zz":
            raise BackendError("translation", "the zz engine is down")
        return [f"{target}:{text.upper()}" for text in texts]

    def close(self) -> None:
        pass


def final(index: int, text: str, lang: str = "en") -> CommittedSegment:
    return CommittedSegment(index, lang, text, index * 2.0, index * 2.0 + 1.5, index * 2.0 + 2.5)


def test_each_final_once_per_target_and_a_failure_stays_in_its_language() -> None:
    backend = RecordingTranslator()
    service = TranslationService([backend])
    finals = [final(0, "one"), final(1, "deux", "fr"), final(2, "two")]
    results = translate_finals(service, Glossary(), finals, ["xx", "zz", "fr"], lambda: 9.0)
    done = [r for r in results if isinstance(r, Translation)]
    failed = [r for r in results if isinstance(r, TranslationFailed)]
    assert [(r.segment, r.lang, r.text) for r in done] == [
        (0, "xx", "xx:ONE"),
        (2, "xx", "xx:TWO"),
        (0, "fr", "fr:ONE"),
        (2, "fr", "fr:TWO"),
    ]
    assert [(r.segment, r.lang) for r in failed] == [(1, "xx"), (0, "zz"), (2, "zz"), (1, "zz")]
    assert "zz engine is down" in failed[1].reason
    # The French final is not translated into French; no route leads from fr to xx.
    assert "no installed translation from fr to xx" in failed[0].reason
    # Batched: one call per target language for the English finals.
    assert ("en", "xx", ["one", "two"]) in backend.batches
    assert all(r.start == finals[r.segment].start for r in done)


def test_live_stage_batches_waiting_finals_on_its_worker_and_keeps_order() -> None:
    backend = RecordingTranslator()
    service = TranslationService([backend])
    emitted: list[Translation | TranslationFailed] = []

    async def scenario() -> None:
        stage = TranslationStage(service, Glossary(), ["xx"], emitted.append, lambda: 1.0)
        runner = asyncio.create_task(stage.run())
        for i in range(5):
            stage.submit(final(i, f"s{i}"))
        stage.finish()
        await asyncio.wait_for(runner, scaled(30))  # a stuck stage fails, not hangs

    asyncio.run(scenario())
    assert [r.segment for r in emitted] == [0, 1, 2, 3, 4]
    assert len(backend.batches) == 1  # all five were waiting: one batch
    assert backend.threads == {"translation_0"}


def test_simulated_clock_queues_behind_a_busy_worker() -> None:
    ticks = iter([0.0, 0.5, 10.0, 10.25])  # start and end of each translation
    service = TranslationService([RecordingTranslator()])
    stage = SimulatedTranslation(service, Glossary(), ["xx"], lambda: next(ticks))
    (first,) = stage.submit(final(0, "a"), emitted_at=3.0)
    assert first.emitted_at == 3.5
    (second,) = stage.submit(final(1, "b"), emitted_at=3.2)  # waits for the first
    assert second.emitted_at == 3.75


def test_session_audio_keeps_the_recent_past() -> None:
    import numpy as np

    from interp.translation.speech import SessionAudio

    recent = SessionAudio(keep_s=2.0)
    for second in range(5):
        recent.append(np.full(16_000, second, dtype=np.float32))
    kept = recent.slice(3.5, 4.5)
    assert kept is not None and len(kept) == 16_000
    assert kept[0] == 3 and kept[-1] == 4
    assert recent.slice(1.0, 2.0) is None  # dropped
    assert recent.slice(4.5, 6.0) is None  # not yet heard


class FakeSpeech:
    """Stands in for Whisper's translation of a final's audio."""

    name = "whisper"

    def translate(self, start: float, end: float, language: str) -> str:
        return f"english of {language} {start:.0f}-{end:.0f}"


def test_live_stage_reaches_english_from_speech_and_pivots_on() -> None:
    backend = RecordingTranslator()  # serves en→xx, nothing from de
    service = TranslationService([backend])
    emitted: list[Translation | TranslationFailed] = []

    async def scenario() -> None:
        stage = TranslationStage(
            service, Glossary(), ["en", "xx"], emitted.append, lambda: 1.0,
            speech=FakeSpeech(),  # type: ignore[arg-type]
        )  # fmt: skip
        runner = asyncio.create_task(stage.run())
        stage.submit(final(0, "guten Morgen", "de"))
        stage.finish()
        await asyncio.wait_for(runner, scaled(30))  # a stuck stage fails, not hangs

    asyncio.run(scenario())
    done = {r.lang: r for r in emitted if isinstance(r, Translation)}
    assert done["en"].text == "english of de 0-2" and done["en"].backend == "whisper"
    assert done["xx"].text == "xx:ENGLISH OF DE 0-2" and done["xx"].backend == "whisper+fake"

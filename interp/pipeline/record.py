"""The record pass: after each utterance, its audio decoded again for the archive.

Live recognition works against the clock: a growing buffer, a small beam, text
committed by agreement between passes, finals cut wherever two passes agreed.  The
archive has time.  Once an utterance is over (the finals that follow one another
without a pause), its audio is decoded once more with offline settings
(``asr.record_beam_size``, Whisper's full window, the session's previous record as
context) as background work on the shared model, which waits for live passes
(:mod:`interp.asr.gate`).  Its words go back to the finals they were spoken in, by
their times, and each final's share is its record text; the live text, as the room
saw it, is kept beside it.  Where a text engine served the final's translations, the
record is translated too.

Decoding the whole utterance, not each final, is what makes the record as good as
offline: a final's edges fall mid-sentence, and a final decoded alone loses or
invents the words at its edges (on FLEURS clips, WER 0.143 for a final-by-final
record against 0.095 for the utterance, where offline gave 0.095).

When the machine cannot keep up, utterances queue here (their audio copied, up to
``asr.record_backlog_s``) and the pass catches up in pauses or after the session; an
utterance past the backlog keeps its live text as its record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..audio.pcm import Samples
from ..config import SAMPLE_RATE, AsrSettings
from ..errors import InterpError
from ..events import CommittedSegment, PartialText, RecordText, Word, join_words
from ..glossary import Glossary
from ..health import Health
from ..translation.service import TranslationService
from .workers import ModelWorker

logger = logging.getLogger(__name__)

RecordDecoder = Callable[[Samples, str, str, float], list[Word]]
"""``(audio, language, prompt, speech_end) -> words``: the record decode of one
utterance's audio, times in seconds from the audio's start (``speech_end``: where its
last final ends)."""

AudioCut = Callable[[float, float], Samples | None]
"""The session audio between two session times, or ``None`` once it is gone."""

RECORD_BACKEND = "whisper-record"


@dataclass(frozen=True, slots=True)
class Utterance:
    """Finals spoken without a pause between them, in one language."""

    finals: tuple[CommittedSegment, ...]

    @property
    def start(self) -> float:
        return self.finals[0].start

    @property
    def end(self) -> float:
        return self.finals[-1].end

    @property
    def lang(self) -> str:
        return self.finals[0].lang


class UtteranceGroups:
    """Which finals make one utterance: sans-I/O, fed finals, partials and the clock.

    An utterance is closed by a final or a partial that starts after a pause of more
    than ``gap_s``, or in another language; by ``wait_s`` of session audio past its
    last final with no speech continuing it; or once it would run past ``max_s``.
    Speech that continues it (a partial starting within the gap) is waited for, up to
    ``max_s`` past the utterance's start.
    """

    def __init__(self, gap_s: float, wait_s: float, max_s: float) -> None:
        self._gap = gap_s
        self._wait = wait_s
        self._max = max_s
        self._open: list[CommittedSegment] = []
        self._continuing = False

    def final(self, final: CommittedSegment) -> list[Utterance]:
        closed = []
        if self._open and (
            final.start - self._open[-1].end > self._gap
            or final.lang != self._open[0].lang
            or final.end - self._open[0].start > self._max
        ):
            closed.append(self._close())
        self._open.append(final)
        self._continuing = False
        return closed

    def partial(self, partial: PartialText) -> list[Utterance]:
        if not self._open:
            return []
        if partial.start - self._open[-1].end > self._gap or partial.lang != self._open[0].lang:
            return [self._close()]
        self._continuing = True
        return []

    def tick(self, now: float) -> list[Utterance]:
        """``now``: seconds of session audio received."""
        if not self._open:
            return []
        quiet = not self._continuing and now - self._open[-1].end >= self._wait
        if quiet or now - self._open[0].start >= self._max + self._wait:
            return [self._close()]
        return []

    def flush(self) -> list[Utterance]:
        return [self._close()] if self._open else []

    def _close(self) -> Utterance:
        utterance = Utterance(tuple(self._open))
        self._open, self._continuing = [], False
        return utterance


def _letters(text: str) -> int:
    """Letters and digits: a length that holds for scripts without spaces too."""
    return sum(1 for ch in text if ch.isalnum())


def same_text(a: str, b: str) -> bool:
    """Equal but for case, spacing and punctuation: a record no better than the live text."""

    def plain(text: str) -> str:
        return "".join(ch for ch in text.casefold() if ch.isalnum())

    return plain(a) == plain(b)


def share_words(
    words: Sequence[Word], finals: Sequence[CommittedSegment], offset: float
) -> list[str]:
    """Each final's share of the utterance's words, by where each word's middle lies.

    ``offset`` is the session time of the audio's start.  Two neighbouring finals
    meet halfway between the end of one and the start of the next.
    """
    bounds = [(a.end + b.start) / 2 for a, b in zip(finals, finals[1:], strict=False)]
    shares: list[list[Word]] = [[] for _ in finals]
    for word in words:
        middle = offset + (word.start + word.end) / 2
        index = sum(1 for bound in bounds if middle >= bound)
        shares[index].append(word)
    return [join_words(share) for share in shares]


def record_utterance(
    decode: RecordDecoder,
    service: TranslationService,
    glossary: Glossary,
    targets: list[str],
    utterance: Utterance,
    audio: Samples,
    offset: float,
    context: str,
    min_share: float = 0.0,
) -> list[RecordText]:
    """The records of one utterance's finals and, where one differs, its translations.

    Runs on the record thread.  A final that gets no words keeps its live text as its
    record (it heard speech; the record pass is not the judge of that), and so does one
    whose record is shorter than ``min_share`` of its live text: Whisper's long window
    skips the end of a sentence now and then, and the live text is the witness that
    it was spoken.  Translations
    are made where a text engine serves the pair; an English made from the speech
    itself was decoded with offline settings already, and stands.
    """
    prompt = " ".join(part for part in (glossary.prompt(), context) if part)
    words = decode(audio, utterance.lang, prompt, utterance.end - offset)
    records: list[RecordText] = []
    changed: list[tuple[CommittedSegment, str]] = []
    for final, text in zip(utterance.finals, share_words(words, utterance.finals, offset),
                           strict=True):  # fmt: skip
        if not text or _letters(text) < min_share * _letters(final.text):
            continue
        records.append(
            RecordText(final.segment, final.lang, text, final.start, final.end, 0.0,
                       RECORD_BACKEND)
        )  # fmt: skip
        if not same_text(text, final.text):
            changed.append((final, text))  # its live translations are those of the record
    lang = utterance.lang
    for target in targets:
        if not changed or target == lang or service.route(lang, target) is None:
            continue
        try:
            texts = service.translate_with_glossary([t for _, t in changed], lang, target, glossary)
        except InterpError as exc:
            logger.info("record translation %s→%s failed: %s", lang, target, exc)
            continue  # the live translations stay the record's
        backend = service.require(lang, target).backend
        records.extend(
            RecordText(f.segment, target, text, f.start, f.end, 0.0, backend)
            for (f, _), text in zip(changed, texts, strict=True)
        )
    return records


def record_events(
    decode: RecordDecoder,
    events: Sequence[tuple[CommittedSegment | PartialText, float]],
    audio: Samples,
    settings: AsrSettings,
) -> dict[int, str]:
    """The record of a whole run's finals at once, grouped as live: segment → record text.

    ``events`` are a live run's events with the session time each was emitted at (what
    ``simulate_realtime`` yields).  For benchmarks and tests: the same grouping, audio
    and decode as the server's record pass, without its queue.  A final the record
    gives no words is left out (it keeps its live text).
    """
    groups = UtteranceGroups(settings.record_gap_s, settings.record_wait_s, settings.record_max_s)
    utterances: list[Utterance] = []
    for event, emitted_at in events:
        utterances += groups.tick(emitted_at)
        if isinstance(event, CommittedSegment):
            utterances += groups.final(event)
        else:
            utterances += groups.partial(event)
    utterances += groups.flush()
    texts: dict[int, str] = {}
    context = ""
    service = TranslationService([])
    for utterance in utterances:
        offset = max(0.0, utterance.start - settings.record_pad_s)
        end = utterance.end + settings.record_pad_s
        cut = audio[int(offset * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        records = record_utterance(decode, service, Glossary(), [], utterance, cut, offset,
                                   context, settings.record_min_share)  # fmt: skip
        texts.update((r.segment, r.text) for r in records)
        joined = f"{context} {' '.join(r.text for r in records)}".strip()
        context = joined[-settings.prompt_chars :]
    return texts


@dataclass(eq=False)
class RecordFeed:
    """One session's side of the record pass: its finals grouped, its audio cut."""

    session: str
    groups: UtteranceGroups
    cut: AudioCut
    emit: Callable[[RecordText], None]
    pad_s: float
    submit: Callable[[RecordFeed, Utterance, Samples | None, float], None]
    context: str = ""
    """The session's latest record text, the next utterance's prompt."""

    def final(self, final: CommittedSegment) -> None:
        self._queue(self.groups.final(final))

    def partial(self, partial: PartialText) -> None:
        self._queue(self.groups.partial(partial))

    def tick(self, now: float) -> None:
        self._queue(self.groups.tick(now))

    def flush(self) -> None:
        self._queue(self.groups.flush())

    def _queue(self, utterances: list[Utterance]) -> None:
        for utterance in utterances:
            start = max(0.0, utterance.start - self.pad_s)
            self.submit(self, utterance, self.cut(start, utterance.end + self.pad_s), start)


@dataclass(frozen=True, slots=True)
class _Waiting:
    feed: RecordFeed
    utterance: Utterance
    audio: Samples
    offset: float


@dataclass
class RecordCounts:
    utterances: int = 0
    finals: int = 0
    skipped: int = 0


class RecordPass:
    """The live shell: utterances of any session in, their records out, one at a time.

    It outlives a session: the backlog of a session that ended is worked through
    while the next one runs, behind its live passes.  :meth:`aclose` gives the rest a
    deadline when the server stops.
    """

    def __init__(
        self,
        decode: RecordDecoder,
        service: TranslationService,
        glossary: Glossary,
        targets: list[str],
        now: Callable[[], float],
        *,
        backlog_s: float,
        gap_s: float = 0.6,
        wait_s: float = 3.0,
        max_s: float = 25.0,
        pad_s: float = 0.3,
        min_share: float = 0.0,
        prompt_chars: int = 200,
        health: Health | None = None,
    ) -> None:
        self._decode = decode
        self._service = service
        self._glossary = glossary
        self._targets = targets
        self._now = now
        self._backlog = int(backlog_s * SAMPLE_RATE)
        self._grouping = (gap_s, wait_s, max_s)
        self._pad = pad_s
        self._min_share = min_share
        self._prompt_chars = prompt_chars
        self._health = health or Health()
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._queued_samples = 0
        self._worker = ModelWorker("record")
        self._task: asyncio.Task[None] | None = None
        self.counts = RecordCounts()

    @property
    def backlog_s(self) -> float:
        """Seconds of utterances' audio waiting for their record."""
        return self._queued_samples / SAMPLE_RATE

    def feed(self, session: str, cut: AudioCut, emit: Callable[[RecordText], None]) -> RecordFeed:
        """A session's feed: give it every partial and final, and the clock."""
        return RecordFeed(session, UtteranceGroups(*self._grouping), cut, emit, self._pad,
                          self._submit)  # fmt: skip

    def _submit(
        self, feed: RecordFeed, utterance: Utterance, audio: Samples | None, offset: float
    ) -> None:
        """Queue an utterance with its audio (copied); on the event loop."""
        if audio is None or not len(audio):
            self._skip(utterance, "its audio is no longer kept")
            return
        if self._queued_samples + len(audio) > self._backlog:
            self._skip(utterance, "the record pass is a whole backlog behind")
            return
        self._queued_samples += len(audio)
        self._queue.put_nowait(_Waiting(feed, utterance, audio.copy(), offset))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="record-pass")

    def _skip(self, utterance: Utterance, why: str) -> None:
        self.counts.skipped += len(utterance.finals)
        self._health.count("records_skipped", len(utterance.finals))
        logger.info(
            "%d finals keep their live text as their record: %s", len(utterance.finals), why
        )

    async def _run(self) -> None:
        while not self._queue.empty():
            item = self._queue.get_nowait()
            try:
                records = await self._worker.run(
                    record_utterance, self._decode, self._service, self._glossary,
                    self._targets, item.utterance, item.audio, item.offset, item.feed.context,
                    self._min_share,
                )  # fmt: skip
            except Exception:  # noqa: BLE001 - one utterance's record, never the pass
                logger.exception("the record pass of an utterance failed")
                self._health.count("records_failed")
                records = []
            finally:
                self._queued_samples -= len(item.audio)
            at = self._now()
            for record in records:
                item.feed.emit(dataclasses.replace(record, emitted_at=at))
            floor = [r.text for r in records if r.lang == item.utterance.lang]
            if floor:
                self.counts.utterances += 1
                self.counts.finals += len(floor)
                context = f"{item.feed.context} {' '.join(floor)}".strip()
                item.feed.context = context[-self._prompt_chars :]

    async def drain(self) -> None:
        """Until every queued utterance has its record."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def aclose(self, timeout_s: float) -> None:
        """Finish the backlog within ``timeout_s``; what is left keeps its live text."""
        try:
            await asyncio.wait_for(self.drain(), timeout_s)
        except TimeoutError:
            left = self._queue.qsize()
            logger.warning("record pass cut off: %d utterances keep their live text", left)
            if self._task is not None:
                self._task.cancel()
        finally:
            self._worker.close(wait=False)

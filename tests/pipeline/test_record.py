"""The record pass: utterances decoded again off the loop, words shared back to finals."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from interp.config import SAMPLE_RATE
from interp.events import CommittedSegment, PartialText, RecordText, Word
from interp.glossary import Glossary
from interp.health import Health
from interp.pipeline.record import (
    RecordPass,
    Utterance,
    UtteranceGroups,
    record_utterance,
    same_text,
    share_words,
)
from interp.translation.service import TranslationService

from ..deadlines import scaled
from ..translation.test_stage import RecordingTranslator


def final(index: int, text: str, start: float, end: float, lang: str = "en") -> CommittedSegment:
    return CommittedSegment(index, lang, text, start, end, end + 1.0)


def partial(index: int, start: float, lang: str = "en") -> PartialText:
    return PartialText(index, lang, "…", 0, start, start + 0.5, start + 1.0)


def timed(text: str, start: float, step: float = 0.4) -> list[Word]:
    """Words of ``text``, one every ``step`` seconds from ``start``."""
    return [
        Word(start + i * step, start + (i + 1) * step - 0.05, " " + word)
        for i, word in enumerate(text.split())
    ]


class ScriptedDecoder:
    """Returns scripted words (times from the audio's start); records each call."""

    def __init__(self, results: list[list[Word] | Exception]) -> None:
        self.results = list(results)
        self.calls: list[tuple[float, str, str, float]] = []
        self.threads: set[str] = set()
        self.release = threading.Event()
        self.release.set()

    def __call__(self, audio: np.ndarray, language: str, prompt: str, end: float) -> list[Word]:
        self.release.wait()
        self.calls.append((len(audio) / SAMPLE_RATE, language, prompt, end))
        self.threads.add(threading.current_thread().name)
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


# -- which finals make one utterance ----------------------------------------------


def test_finals_without_a_pause_make_one_utterance_and_a_pause_closes_it() -> None:
    groups = UtteranceGroups(gap_s=1.0, wait_s=3.0, max_s=25.0)
    assert groups.final(final(0, "a", 0.0, 4.0)) == []
    assert groups.final(final(1, "b", 4.3, 8.0)) == []  # 0.3 s apart: the same sentence
    (closed,) = groups.final(final(2, "c", 10.0, 12.0))  # 2 s of silence before it
    assert [f.segment for f in closed.finals] == [0, 1]
    assert groups.flush()[0].finals[0].segment == 2 and groups.flush() == []


def test_an_utterance_waits_for_speech_that_continues_it_and_closes_in_silence() -> None:
    groups = UtteranceGroups(gap_s=1.0, wait_s=3.0, max_s=25.0)
    groups.final(final(0, "a", 0.0, 4.0))
    assert groups.tick(6.9) == []
    groups.partial(partial(1, 4.5))  # the sentence goes on
    assert groups.tick(7.5) == []  # past the wait, but speech continues it
    groups.final(final(1, "b", 4.5, 9.0))
    assert groups.tick(11.9) == []
    (closed,) = groups.tick(12.0)  # 3 s of audio past its last final, nothing continuing
    assert [f.segment for f in closed.finals] == [0, 1]


def test_a_new_utterance_language_or_length_closes_the_open_one() -> None:
    groups = UtteranceGroups(gap_s=1.0, wait_s=3.0, max_s=10.0)
    groups.final(final(0, "a", 0.0, 4.0))
    assert len(groups.partial(partial(1, 6.0))) == 1  # speech after a pause: a new one
    groups.final(final(1, "b", 6.0, 8.0))
    assert len(groups.final(final(2, "c", 8.2, 9.0, lang="fr"))) == 1
    groups.final(final(3, "d", 9.2, 15.0, lang="fr"))
    assert groups.flush()[0].end == 15.0
    groups.final(final(4, "e", 20.0, 26.0))
    assert len(groups.final(final(5, "f", 26.1, 31.0))) == 1  # 11 s: past max_s
    groups.partial(partial(6, 31.2))
    assert groups.tick(39.0) == []
    assert len(groups.tick(39.2)) == 1  # speech that never ends is not waited for forever


def test_words_go_to_the_final_they_were_spoken_in() -> None:
    finals = [final(0, "x", 10.0, 12.0), final(1, "y", 12.4, 14.0)]
    words = [Word(0.0, 0.5, " One"), Word(1.7, 2.35, " two"), Word(2.45, 3.0, " three")]
    # offset 10: "two" lies in 11.7-12.35 (middle 12.03 < 12.2), "three" after the bound
    assert share_words(words, finals, 10.0) == ["One two", "three"]
    assert share_words([], finals, 10.0) == ["", ""]


# -- what an utterance's record is --------------------------------------------------


def test_a_better_record_is_translated_again_where_a_text_engine_serves_the_pair() -> None:
    service = TranslationService([RecordingTranslator()])
    utterance = Utterance((final(0, "the peace charta was", 1.0, 3.0),
                           final(1, "adopted", 3.2, 4.0)))  # fmt: skip
    decoder = ScriptedDecoder([timed("The Peace Charter was", 0.5) + timed("adopted.", 2.7)])
    records = record_utterance(decoder, service, Glossary(), ["xx", "de"], utterance,
                               np.zeros(SAMPLE_RATE * 4, np.float32), 0.5, "Before.")  # fmt: skip
    assert [(r.segment, r.lang, r.text, r.backend) for r in records] == [
        (0, "en", "The Peace Charter was", "whisper-record"),
        (1, "en", "adopted.", "whisper-record"),
        (0, "xx", "xx:THE PEACE CHARTER WAS", "fake"),
    ]  # seg 1 reads as its live text: its live translations stand; no engine for de
    (_, language, prompt, end) = decoder.calls[0]
    assert (language, prompt, end) == ("en", "Before.", 3.5)  # the last final's end, from 0.5


def test_a_final_the_record_gives_no_words_keeps_its_live_text() -> None:
    service = TranslationService([RecordingTranslator()])
    utterance = Utterance((final(0, "one", 0.0, 1.0), final(1, "two", 1.2, 2.0)))
    audio = np.zeros(SAMPLE_RATE * 2, np.float32)
    decoder = ScriptedDecoder([timed("One", 0.1)])
    records = record_utterance(decoder, service, Glossary(), [], utterance, audio, 0.0, "")
    assert [(r.segment, r.text) for r in records] == [(0, "One")]
    assert same_text("One, two!", "one two") and not same_text("one two", "one too")


# -- the live shell -------------------------------------------------------------------


def run_session(
    decoder: ScriptedDecoder,
    feed_events: list[CommittedSegment | PartialText | float],
    backlog_s: float = 600.0,
    health: Health | None = None,
) -> tuple[list[RecordText], RecordPass]:
    """Feeds a session's events (a float is the clock) to a record pass; waits for it."""
    service = TranslationService([RecordingTranslator()])
    records: list[RecordText] = []
    audio = np.zeros(SAMPLE_RATE * 120, np.float32)

    def cut(start: float, end: float) -> np.ndarray:
        return audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]

    async def scenario() -> RecordPass:
        stage = RecordPass(decoder, service, Glossary(), [], lambda: 42.0,
                           backlog_s=backlog_s, health=health)  # fmt: skip
        feed = stage.feed("s1", cut, records.append)
        for event in feed_events:
            if isinstance(event, float):
                feed.tick(event)
            elif isinstance(event, CommittedSegment):
                feed.final(event)
            else:
                feed.partial(event)
        feed.flush()
        await asyncio.wait_for(stage.drain(), scaled(30))
        await stage.aclose(scaled(5))
        return stage

    return records, asyncio.run(scenario())


def test_each_utterance_is_decoded_off_the_loop_after_the_previous_record() -> None:
    decoder = ScriptedDecoder([timed("First sentence.", 0.5), timed("Second one.", 0.5)])
    records, stage = run_session(decoder, [final(0, "first", 1.0, 2.0), 5.5,
                                           final(1, "second", 8.0, 9.0)])  # fmt: skip
    assert [(r.segment, r.text, r.emitted_at) for r in records] == [
        (0, "First sentence.", 42.0), (1, "Second one.", 42.0)
    ]  # fmt: skip
    assert [call[2] for call in decoder.calls] == ["", "First sentence."]
    assert decoder.calls[0][0] == 1.6  # the utterance and 0.3 s each side
    assert stage.counts.utterances == 2 and "MainThread" not in decoder.threads


def test_a_failing_decode_leaves_the_live_text_and_the_pass_goes_on() -> None:
    health = Health()
    decoder = ScriptedDecoder([RuntimeError("CTranslate2 fell over"), timed("Third.", 0.3)])
    records, _ = run_session(decoder, [final(0, "one", 1.0, 2.0), final(1, "three", 9.0, 10.0)],
                             health=health)  # fmt: skip
    assert [(r.segment, r.text) for r in records] == [(1, "Third.")]
    assert health.records_failed == 1


def test_past_the_backlog_an_utterance_keeps_its_live_text_and_is_counted() -> None:
    health = Health()
    decoder = ScriptedDecoder([timed("One.", 0.3), timed("Two.", 0.3)])
    # All three are queued before the pass starts on the first: 1.6 s and 1.6 s of
    # audio (with the pad) fit in 3.5 s, the third's 1.1 s does not.
    events: list[CommittedSegment | PartialText | float] = [
        final(0, "one", 1.0, 2.0), final(1, "two", 5.0, 6.0), final(2, "three", 9.0, 9.5)
    ]  # fmt: skip
    records, stage = run_session(decoder, events, backlog_s=3.5, health=health)
    assert [(r.segment, r.text) for r in records] == [(0, "One."), (1, "Two.")]
    assert health.records_skipped == 1 and stage.counts.skipped == 1
    assert stage.backlog_s == 0.0


def test_a_hung_decoder_is_cut_off_at_close_without_holding_the_loop() -> None:
    decoder = ScriptedDecoder([[]])
    decoder.release.clear()

    async def scenario() -> None:
        service = TranslationService([RecordingTranslator()])
        stage = RecordPass(decoder, service, Glossary(), [], lambda: 1.0, backlog_s=60)
        feed = stage.feed("s1", lambda a, b: np.zeros(SAMPLE_RATE, np.float32), lambda r: None)
        feed.final(final(0, "one", 1.0, 2.0))
        feed.flush()
        await asyncio.sleep(0)
        await asyncio.wait_for(stage.aclose(0.2), scaled(10))

    asyncio.run(scenario())
    decoder.release.set()  # lets the abandoned thread end


def test_a_record_that_skipped_speech_the_live_passes_heard_is_not_taken() -> None:
    service = TranslationService([RecordingTranslator()])
    live = "and within easy reach is the town of Sintra made famous by Lord Byron"
    utterance = Utterance((final(0, live, 0.0, 5.0), final(1, "The cabbage juice", 5.2, 7.0)))
    # The long window jumped from "town of" to the next sentence.
    decoder = ScriptedDecoder([timed("and within an easy reach is the town of", 0.0, 0.5)
                               + timed("The cabbage juice", 5.3)])  # fmt: skip
    audio = np.zeros(SAMPLE_RATE * 7, np.float32)
    records = record_utterance(decoder, service, Glossary(), [], utterance, audio, 0.0, "", 0.75)
    assert [(r.segment, r.text) for r in records] == [(1, "The cabbage juice")]
    whole = record_utterance(ScriptedDecoder([timed(live.replace("is", "was"), 0.0, 0.3)]),
                             service, Glossary(), [], utterance, audio, 0.0, "", 0.75)  # fmt: skip
    assert [r.segment for r in whole] == [0]

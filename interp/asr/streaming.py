"""The streaming recogniser: voice detection, LocalAgreement and sentence finals.

Sans-I/O: audio goes in through :meth:`StreamingTranscriber.feed`, events come out.
It owns no thread, socket or clock; time is counted in samples.  The recogniser and
the speech-probability model are injected, and since they block, the whole object
lives on one worker thread (see :mod:`interp.pipeline.workers`).

How an utterance flows:

* Silero scores every 32 ms window; the segmenter opens an utterance at speech onset
  (keeping ``speech_pad_ms`` of audio before it) and closes it after
  ``min_silence_ms`` of silence.  Audio outside utterances never reaches Whisper,
  which is the first guard against text on silence, noise and applause.
* While speech goes on, once ``step_ms`` of new audio has arrived, the buffer is
  recognised again.  Words two consecutive passes agree on are committed, and with
  ``commit_horizon_s`` so are words one pass aligns well before the buffer's end.
* Committed words gather in the open segment.  A sentence end closes it as a
  ``CommittedSegment`` (a final); so does the end of the utterance, which commits
  whatever the last pass still held.
* With ``hurry_lag_s`` set (off by default: it measured no gain), when the caller
  says recognition is falling behind (``feed``'s ``lag_s``), the passes hurry: a
  smaller beam and longer steps, until the lag is back down.
* After each final the buffer is trimmed to the end of the sentence once it is long
  enough, and always before it passes ``max_buffer_s``: memory stays flat.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..audio.pcm import SampleBuffer, Samples
from ..config import SAMPLE_RATE, AsrSettings, VadSettings
from ..events import CommittedSegment, PartialText, TextEvent, Word, join_words
from ..vad.base import WINDOW_SAMPLES, SpeechProbModel
from ..vad.segmenter import VadSegmenter
from .agreement import LocalAgreement
from .base import Recognizer
from .guards import cut_repeated_tail, cut_repetition_loop, ends_sentence, heard_words

_SWITCH_CONFIDENCE = 0.8
"""Language probability that settles a language other than the previous utterance's."""

_SETTLE_AFTER_S = 2.0
"""Speech needed before a detection alone settles a new language: on a second of
audio Whisper base confidently takes German for English."""

TRIM_AFTER_S = 6.0
"""A buffer longer than this is trimmed at each sentence end."""


class StreamingTranscriber:
    """Audio in, partial and committed text out."""

    def __init__(
        self,
        recognizer: Recognizer,
        speech_prob: SpeechProbModel,
        asr: AsrSettings,
        vad: VadSettings,
        prompt_prefix: str = "",
    ) -> None:
        self._recognizer = recognizer
        self._speech_prob = speech_prob
        self._asr = asr
        self._segmenter = VadSegmenter(vad)
        self._prompt_prefix = prompt_prefix.strip()
        self._pad_windows = max(0, round(vad.speech_pad_ms * SAMPLE_RATE / 1000 / WINDOW_SAMPLES))
        self._min_speech_samples = vad.min_speech_ms * SAMPLE_RATE // 1000
        self._step_samples = asr.step_ms * SAMPLE_RATE // 1000
        self._first_pass_samples = asr.first_pass_ms * SAMPLE_RATE // 1000
        self._max_buffer_samples = int(asr.max_buffer_s * SAMPLE_RATE)
        self._join_samples = asr.join_pause_ms * SAMPLE_RATE // 1000
        self._join_until: int | None = None
        """While set, a pause is under way whose audio is kept: speech starting before
        this sample continues the last sentence."""
        self._settle_samples = int(_SETTLE_AFTER_S * SAMPLE_RATE)
        self._buffer = SampleBuffer()
        self._agreement = LocalAgreement(asr.commit_horizon_s)
        self._history: deque[Word] = deque(maxlen=200)
        self._prior_language: str | None = None
        """Spoken language of the previous utterance: the first guess for the next."""
        self.next_segment = 0
        """Index the next segment will get; indices count up through the session."""
        self.fed_samples = 0
        self.passes = 0
        """Recognition passes run so far (for measurements)."""
        self.hurried = False
        """Passes are hurried now: recognition fell ``hurry_lag_s`` behind."""
        self.hurried_passes = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._window_index = 0
        self._preroll: deque[Samples] = deque(maxlen=self._pad_windows or 1)
        self._reset_utterance()

    # -- public ------------------------------------------------------------------

    @property
    def in_speech(self) -> bool:
        return self._segmenter.in_speech

    @property
    def buffer_seconds(self) -> float:
        """Audio held for recognition now (the memory the core keeps)."""
        return len(self._buffer) / SAMPLE_RATE

    def feed(self, audio: Samples, lag_s: float = 0.0) -> list[TextEvent]:
        """Consume the next samples of the session; return the events they cause.

        ``lag_s``: how long the oldest of these samples waited to be fed, as the
        caller measures it; it decides whether the passes hurry.
        """
        self._update_hurry(lag_s)
        self.fed_samples += len(audio)
        data = np.concatenate([self._pending, np.asarray(audio, dtype=np.float32)])
        count = len(data) // WINDOW_SAMPLES
        windows = data[: count * WINDOW_SAMPLES].reshape(count, WINDOW_SAMPLES)
        self._pending = data[count * WINDOW_SAMPLES :].copy()
        events: list[TextEvent] = []
        probabilities = (
            self._speech_prob.probabilities(windows) if count else np.zeros(0, np.float32)
        )
        for window, probability in zip(windows, probabilities, strict=True):
            was_in_speech = self._segmenter.in_speech
            boundary = self._segmenter.feed(float(probability))
            if boundary is not None and boundary.started:
                self._open_utterance(window)
            elif was_in_speech:
                self._buffer.append(window)
                if boundary is not None:
                    events += self._close_utterance(boundary.window * WINDOW_SAMPLES)
            elif self._join_until is not None:
                self._buffer.append(window)  # the pause, so kept audio stays continuous
                if self._buffer.end_sample >= self._join_until:
                    self._let_go_of_audio()
            # Always kept, so speech that starts right as an utterance closes still
            # gets its padding from the closing silence.
            self._preroll.append(window.copy())
            self._window_index += 1
        if self._segmenter.in_speech and self._pass_due():
            events += self._recognise()
        return events

    def flush(self) -> list[TextEvent]:
        """End of the stream: close any open utterance."""
        if self._segmenter.in_speech:
            self._buffer.append(self._pending)
            self._pending = np.zeros(0, dtype=np.float32)
            events = self._close_utterance(self._buffer.end_sample)
            self._segmenter.reset()
        else:
            events = []
        self._let_go_of_audio()
        return events

    # -- utterances --------------------------------------------------------------

    def _reset_utterance(self) -> None:
        self._language: str | None = self._asr.language
        """The utterance's spoken language once known (or the one fixed by settings)."""
        self._pass_language: str | None = None
        self._open_words: list[Word] = []
        self._last_partial = ""
        self._speech_start_sample = 0
        self._last_pass_sample = 0
        self._agreement.new_utterance()

    def _open_utterance(self, window: Samples) -> None:
        if self._join_until is not None:
            self._join_until = None  # the buffer already holds the pause before it
        else:
            preroll = list(self._preroll) if self._pad_windows else []
            self._buffer.reset((self._window_index - len(preroll)) * WINDOW_SAMPLES)
            for previous in preroll:
                self._buffer.append(previous)
        self._buffer.append(window)
        self._speech_start_sample = self._window_index * WINDOW_SAMPLES
        self._last_pass_sample = self._speech_start_sample

    def _close_utterance(self, speech_end_sample: int) -> list[TextEvent]:
        long_enough = speech_end_sample - self._speech_start_sample >= self._min_speech_samples
        speech_end = speech_end_sample / SAMPLE_RATE
        events = self._recognise(speech_end) if long_enough or self._open_words else []
        if events and self._asr.language is None:
            self._prior_language = self._language or self._pass_language
        finals = [e for e in events if isinstance(e, CommittedSegment)]
        if finals and self._join_samples:
            # Whisper ends every buffer with a full stop, so whether the sentence goes
            # on is unknown: keep its audio through a short pause.
            self._buffer.trim_before(round(finals[-1].start * SAMPLE_RATE))
            self._join_until = speech_end_sample + self._join_samples
        else:
            self._let_go_of_audio()
        self._reset_utterance()
        return events

    def _let_go_of_audio(self) -> None:
        """Empty the buffer: nothing held is needed as context any more."""
        self._join_until = None
        self._buffer.reset(self._buffer.end_sample)

    @property
    def _no_pass_yet(self) -> bool:
        """No pass has run in this utterance yet."""
        return self._last_pass_sample == self._speech_start_sample

    def _update_hurry(self, lag_s: float) -> None:
        limit = self._asr.hurry_lag_s
        if limit <= 0:
            return
        if lag_s >= limit:
            self.hurried = True
        elif lag_s < limit / 2:  # hysteresis: no flapping at the limit
            self.hurried = False

    def _pass_due(self) -> bool:
        heard = self._buffer.end_sample - self._speech_start_sample
        if heard < self._first_pass_samples:
            return False
        if self._no_pass_yet:
            return True
        step = self._step_samples
        if self.hurried:
            step = int(step * self._asr.hurried_step_factor)
        return self._buffer.end_sample - self._last_pass_sample >= step

    # -- recognition -------------------------------------------------------------

    def _prompt(self, audio_start: float) -> str:
        context = join_words([w for w in self._history if w.end <= audio_start])
        context = context[len(context) - self._asr.prompt_chars :] if self._asr.prompt_chars else ""
        return f"{self._prompt_prefix} {context}".strip()

    def _recognise(self, speech_end: float | None = None) -> list[TextEvent]:
        """One pass over the buffer; ``speech_end`` is set on the utterance's last."""
        final = speech_end is not None
        self.passes += 1
        self.hurried_passes += self.hurried
        first_pass = self._no_pass_yet
        self._last_pass_sample = self._buffer.end_sample
        asked = self._language
        if asked is None and self._pass_language is None and self._prior_language:
            # First pass of an utterance: assume the previous speaker's language, as
            # detection on half a second of speech is a guess; the next pass, with
            # more audio, detects and corrects it.
            asked = self._prior_language
        # Speech that ends with nothing committed since the last final is often a
        # cough, a breath or a burst of noise.  Whisper judges "no speech" soundly
        # only in its whole window and without a prompt to copy from: a shortened
        # window heard "Let's go." in a breath, a prompt gave back its own last words.
        judge_alone = final and not self._open_words
        # The first pass hears the utterance's own audio, without the sentence a short
        # pause kept before it: given that, Whisper often stops at its full stop and
        # leaves the new half second unheard, and the first text came a pass later.
        # So do passes that detect the language: a new speaker in another language
        # would be taken for the previous one.
        start_sample = self._buffer.start_sample
        if first_pass or self._language is None:
            own_start = self._speech_start_sample - self._pad_windows * WINDOW_SAMPLES
            start_sample = max(start_sample, own_start)
        offset = start_sample / SAMPLE_RATE
        hypothesis = self._recognizer.transcribe(
            self._buffer.view()[start_sample - self._buffer.start_sample :].copy(),
            language=asked,
            prompt="" if judge_alone else self._prompt(offset),
            choose_language=self._settle_language,
            full_window=judge_alone,
            beam_size=self._asr.hurried_beam_size if self.hurried else None,
        )
        if asked is not None:
            self._pass_language = asked
        heard = list(hypothesis.words)
        if judge_alone:
            heard = heard_words(heard)
        words = [
            Word(w.start + offset, w.end + offset, w.text, w.probability)
            for w in cut_repeated_tail(cut_repetition_loop(heard))
        ]
        # One pass alone commits nothing while its words may be a guess: the first
        # pass's half second (see below), or a language not yet settled (a pass that
        # assumed the previous speaker's Spanish for German speech).
        one_pass_enough = not first_pass and self._language is not None
        audio_end = self._buffer.end_sample / SAMPLE_RATE if one_pass_enough else None
        committed = self._agreement.insert(words, audio_end)
        if speech_end is not None:
            committed += self._agreement.flush(speech_end)
        if committed and self._language is None:
            self._language = self._pass_language  # one spoken language per utterance
        language = (
            hypothesis.text_language or self._language or self._pass_language or hypothesis.language
        )
        self._open_words += committed
        self._history.extend(committed)
        events: list[TextEvent] = self._cut_sentences(language, final)
        if not final:
            partial = self._partial(language)
            if partial is not None:
                events.append(partial)
            if first_pass:
                # Half a second of new speech: Whisper's guess is shown, but two such
                # guesses agreeing ("Ja, griff" then "Der Griff" for "Er griff")
                # would commit a wrong word, so the next pass is not compared with it.
                self._agreement.forget_tentative()
            self._bound_buffer(language, events)
        return events

    def _settle_language(self, detected: str, probability: float) -> str:
        """Decide the utterance's language after detection; return the one to decode in.

        Detection on a second or two of audio is unreliable, so the previous
        utterance's language wins unless the evidence against it is strong.
        """
        prior = self._prior_language
        if prior is not None and detected == prior:
            self._language = detected
        elif probability >= _SWITCH_CONFIDENCE:
            if self._pass_language not in (None, detected):
                self._agreement.forget_tentative()  # words heard as another language
            if self._buffer.end_sample - self._speech_start_sample >= self._settle_samples:
                self._language = detected
        elif prior is not None:
            self._language = prior  # weak evidence: stay with the previous speaker's
            detected = prior
        self._pass_language = detected
        return detected

    def _emitted_at(self) -> float:
        return self.fed_samples / SAMPLE_RATE

    def _final(self, words: list[Word], language: str) -> CommittedSegment | None:
        text = join_words(words)
        if not any(ch.isalnum() for ch in text):
            return None
        segment = CommittedSegment(
            segment=self.next_segment,
            lang=language,
            text=text,
            start=round(words[0].start, 3),
            end=round(words[-1].end, 3),
            emitted_at=round(self._emitted_at(), 3),
            words=tuple(words),
        )
        self.next_segment += 1
        self._last_partial = ""
        return segment

    def _cut_sentences(self, language: str, final: bool) -> list[TextEvent]:
        events: list[TextEvent] = []
        cut = 0
        for index, word in enumerate(self._open_words):
            if ends_sentence(word):
                event = self._final(self._open_words[cut : index + 1], language)
                if event is not None:
                    events.append(event)
                cut = index + 1
        if final and cut < len(self._open_words):
            event = self._final(self._open_words[cut:], language)
            if event is not None:
                events.append(event)
            cut = len(self._open_words)
        if cut:
            sentence_end = self._open_words[cut - 1].end
            self._open_words = self._open_words[cut:]
            if not final and self._buffer.end_sample - self._buffer.start_sample > (
                TRIM_AFTER_S * SAMPLE_RATE
            ):
                self._trim_at(sentence_end)
        return events

    def _partial(self, language: str) -> PartialText | None:
        stable = join_words(self._open_words)
        words = self._open_words + self._agreement.tentative
        text = join_words(words)
        if not text or text == self._last_partial or not any(ch.isalnum() for ch in text):
            return None
        self._last_partial = text
        return PartialText(
            segment=self.next_segment,
            lang=language,
            text=text,
            stable_chars=len(stable),
            start=round(words[0].start, 3),
            end=round(words[-1].end, 3),
            emitted_at=round(self._emitted_at(), 3),
        )

    def _bound_buffer(self, language: str, events: list[TextEvent]) -> None:
        """Keep the buffer under ``max_buffer_s`` even when no sentence ends."""
        if len(self._buffer) < self._max_buffer_samples:
            return
        # Passes have not agreed for a whole buffer: take the latest hypothesis as it is
        # rather than trim away words that were heard but never confirmed.
        self._open_words += self._agreement.flush()
        if self._open_words:
            # A run-on sentence: close what is committed so far as its own final.
            last_end = self._open_words[-1].end
            event = self._final(self._open_words, language)
            if event is not None:
                events.append(event)
            self._open_words = []
            self._trim_at(last_end)
        if len(self._buffer) >= self._max_buffer_samples:
            # Nothing commits (music, noise taken for speech): keep the recent half.
            keep_from = self._buffer.end_sample - self._max_buffer_samples // 2
            self._trim_at(keep_from / SAMPLE_RATE)

    def _trim_at(self, seconds: float) -> None:
        self._buffer.trim_before(int(seconds * SAMPLE_RATE))
        self._agreement.forget_tentative(before=seconds)

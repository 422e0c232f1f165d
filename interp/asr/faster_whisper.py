"""faster-whisper adapter: the only module that imports faster_whisper's model.

Loads a CTranslate2 Whisper directory from disk (never a hub), and exposes the
:class:`~interp.asr.base.Recognizer` protocol for streaming and an offline
transcription of a whole recording.  Whisper's own guards are kept on (no-speech
probability, average log-probability, compression ratio); words the model barely
believes are dropped.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..audio.pcm import Samples
from ..config import SAMPLE_RATE, AsrSettings
from ..errors import BackendError, ModelUnavailable
from ..events import Word, join_words
from .base import Hypothesis, LanguageChoice, SpeechModel
from .gate import gate_of
from .guards import runaway_loop_start

logger = logging.getLogger(__name__)

_WINDOW_STEP_S = 4
"""A shortened encoder window is a multiple of this many seconds."""
_TOKENS_BASE = 24
_TOKENS_PER_SECOND = 16
_MAX_NEW_TOKENS = 220
"""Caps on one pass's output.  Fast French reaches 12 tokens a second of speech (a
FLEURS clip: 28 words in 7.9 s); a lower cap cut its sentence short.  220 leaves room
for the longest prompt within Whisper's 448 positions.  Measured: CTranslate2 4.8
stops at min(max_length - prompt, max_length / 2) tokens, so where the prompt is
shorter than the cap the pass gets about half of it.  The figures in the README were
measured so; the full cap measured worse (Spanish WER ratio 1.20, latency p95 2.74 s:
looping passes run on longer)."""
_MAX_INITIAL_TIMESTAMP_INDEX = 50
"""The first timestamp is at most 1 s (50 steps of 20 ms), as in Whisper."""
_RECORD_WINDOWS = 3
_RECORD_REST_S = 0.5
"""Speech left after a record decode's last word that is decoded again: less is a word's
timing error, more is words the decode left out."""
_PREPEND = "\"'“¿([{-"
_APPEND = "\"'.。,，!！?？:：”)]}、"
"""Punctuation joined to the next or previous word, as faster-whisper does."""


@dataclass(frozen=True, slots=True)
class OfflineSegment:
    start: float
    end: float
    text: str
    lang: str


def load_model(model_dir: Path, settings: AsrSettings) -> SpeechModel:
    """Load the Whisper model from ``model_dir`` (local files only)."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ModelUnavailable(
            "faster-whisper is not installed; run the README's set-up command (make setup)"
        ) from exc
    threads = settings.cpu_threads or os.cpu_count() or 1
    try:
        model: SpeechModel = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type=settings.compute_type,
            cpu_threads=threads,
            local_files_only=True,
        )
        return model
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on bad files
        raise ModelUnavailable(f"cannot load the speech model in {model_dir}: {exc}") from exc


def encoder_window(model: SpeechModel, features: Any, num_frames: int, margin_s: float) -> Any:
    """The mel frames the encoder sees: the audio, padded to a margin, or to 30 s when 0."""
    full = model.feature_extractor.nb_max_frames
    frames = full
    if margin_s > 0:
        # Rounded up to a few lengths: the runtime keeps memory for each shape.
        per_second = model.frames_per_second
        needed = num_frames / per_second + margin_s
        step = _WINDOW_STEP_S * per_second
        frames = min(full, int(np.ceil(needed / _WINDOW_STEP_S)) * step)
    content = features[:, :frames]
    if content.shape[-1] < frames:
        content = np.pad(content, ((0, 0), (0, frames - content.shape[-1])))
    return np.ascontiguousarray(content)


def start_tokens(model: SpeechModel, tokenizer: Any, prompt: str) -> list[int]:
    """The decoder's prompt: previous text (the glossary, context), then the task tokens."""
    context = tokenizer.encode(" " + prompt.strip()) if prompt.strip() else []
    start = [tokenizer.sot_prev, *context[-(model.max_length // 2 - 1) :]] if context else []
    return [*start, *tokenizer.sot_sequence]


def new_token_cap(seconds: float) -> int:
    """The most tokens a decode of this much audio may add: a loop cannot run on."""
    return min(_MAX_NEW_TOKENS, int(_TOKENS_BASE + _TOKENS_PER_SECOND * seconds))


class FasterWhisperRecognizer:
    """Streaming passes over a buffer: one encoder run each, word timestamps on.

    faster-whisper's ``transcribe`` runs the encoder once to detect the language and
    again to decode, and the encoder is most of a pass on a CPU.  A pass here encodes
    once, detects the language from that output, lets the caller settle the language
    (``choose_language``) and decodes once.  The encoder also sees only the buffer
    (plus a margin) rather than 30 s of padding when ``encoder_margin_s`` is set.
    On a second of noise a shortened window makes Whisper invent words ("Very
    beautiful.") where the 30 s window gives nothing, so ``full_window`` keeps it.
    """

    def __init__(self, model: SpeechModel, settings: AsrSettings) -> None:
        from faster_whisper.tokenizer import Tokenizer

        self._model = model
        self._settings = settings
        self._tokenizer_type = Tokenizer
        self._suppress: list[int] | None = None

    def transcribe(
        self,
        audio: Samples,
        *,
        language: str | None,
        prompt: str,
        choose_language: LanguageChoice | None = None,
        full_window: bool = False,
        beam_size: int | None = None,
    ) -> Hypothesis:
        s = self._settings
        model = self._model
        try:
            features = model.feature_extractor(audio)
            num_frames = features.shape[-1] - 1  # the last frame is padding
            margin = 0.0 if full_window else s.encoder_margin_s
            window = encoder_window(model, features, num_frames, margin)
            with gate_of(model).live():  # the whole pass, ahead of any background work
                encoder_output = model.encode(window)
                if language is None:
                    detected, probability = self._detect(encoder_output)
                    language = (
                        choose_language(detected, probability) if choose_language else detected
                    )
                else:
                    detected, probability = language, 1.0
                tokenizer = self._tokenizer_type(
                    model.hf_tokenizer, model.model.is_multilingual, task=s.task, language=language
                )
                beam = beam_size or s.stream_beam_size
                words = self._decode(encoder_output, tokenizer, prompt, num_frames, beam)
        except Exception as exc:
            raise BackendError("speech recognition", str(exc)) from exc
        text_language = "en" if s.task == "translate" else None
        return Hypothesis(tuple(words), detected, probability, text_language)

    def _detect(self, encoder_output: Any) -> tuple[str, float]:
        token, probability = self._model.model.detect_language(encoder_output)[0][0]
        return token[2:-2], float(probability)  # "<|de|>" -> "de"

    def _decode(
        self, encoder_output: Any, tokenizer: Any, prompt: str, num_frames: int, beam_size: int
    ) -> list[Word]:
        """Decode one window and time its words, relative to the buffer start.

        faster-whisper's segment loop starts a second window (a second encoder run
        over 30 s) whenever the decoded text stops short of the audio's end, which a
        capped or hesitant decode does; one buffer is one window here.
        """
        from faster_whisper.transcribe import get_suppressed_tokens

        if self._suppress is None:
            self._suppress = list(get_suppressed_tokens(tokenizer, (-1,)) or ())
        return decode_words(
            self._model, encoder_output, tokenizer, prompt, num_frames, self._settings,
            beam_size=beam_size, suppress=self._suppress,
        )  # fmt: skip


def decode_words(
    model: SpeechModel,
    encoder_output: Any,
    tokenizer: Any,
    prompt: str,
    num_frames: int,
    settings: AsrSettings,
    *,
    beam_size: int,
    suppress: list[int],
    hold: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
    capped: bool = True,
) -> list[Word]:
    """One window's words with their times, under Whisper's own guards.

    ``hold`` is entered around each model call: a live pass holds the model already;
    the record pass takes it piece by piece (see :mod:`interp.asr.gate`).  ``capped``
    limits the new tokens by the audio's length (a live pass, whose loops must not run
    on); uncapped, the decode may run to Whisper's 448 positions, as offline.
    """
    from faster_whisper.transcribe import get_compression_ratio, merge_punctuations

    s = settings
    start = start_tokens(model, tokenizer, prompt)
    new_tokens = new_token_cap(num_frames / model.frames_per_second) if capped else model.max_length
    with hold():
        result = model.model.generate(
            encoder_output,
            [start],
            beam_size=beam_size,
            max_length=min(model.max_length, len(start) + new_tokens),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=suppress,
            max_initial_timestamp_index=_MAX_INITIAL_TIMESTAMP_INDEX,
        )[0]
    output = result.sequences_ids[0]
    text_tokens = [t for t in output if t < tokenizer.eot]
    # A decode that ends in a loop: keep what it heard before the loop.  A loop
    # from the first token is all invention and leaves nothing.
    loop = runaway_loop_start(text_tokens)
    if loop is not None:
        text_tokens = text_tokens[:loop]
    if not text_tokens:
        return []
    # Whisper's own guards over the window, as faster-whisper applies them.
    avg_logprob = result.scores[0] * len(output) / (len(output) + 1)
    text = tokenizer.decode(text_tokens).strip()
    if get_compression_ratio(text) > s.compression_ratio_threshold:
        return []
    if result.no_speech_prob > s.no_speech_threshold and avg_logprob < s.log_prob_threshold:
        return []
    with hold():
        alignment = model.find_alignment(tokenizer, [text_tokens], encoder_output, num_frames)
    timings = alignment[0] if alignment else []
    merge_punctuations(timings, _PREPEND, _APPEND)
    return [
        Word(
            round(float(t["start"]), 2),
            round(float(t["end"]), 2),
            t["word"],
            float(t["probability"]),
        )
        for t in timings
        if t["word"] and t["probability"] >= s.min_word_probability
    ]


def record_words(
    model: SpeechModel,
    audio: Samples,
    language: str,
    prompt: str,
    speech_end_s: float,
    settings: AsrSettings,
) -> list[Word]:
    """The archive's record of one utterance: its audio decoded again with offline settings.

    A live pass decodes a growing buffer at a small beam, under a deadline; the record
    decodes the closed utterance once, at ``record_beam_size``, with the encoder window
    of ``record_encoder_margin_s`` (0: Whisper's full 30 s, as offline), as background
    work: the encoder run, the decode and the alignment each wait at the model's gate
    until no live pass does.  Word times are relative to the audio's start; the audio
    fits one window (the record pass keeps an utterance within ``record_max_s``).
    ``speech_end_s`` is where the live finals say the speech ends (from the audio's
    start): a decode whose words stop well short of it is continued.
    """
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    gate = gate_of(model)
    # After speech translation too, and in pauses of speech only.
    hold = functools.partial(gate.background, last=True, quiet_s=settings.record_quiet_s)
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
    )
    suppress = list(get_suppressed_tokens(tokenizer, (-1,)) or ())
    words: list[Word] = []
    offset = 0.0
    try:
        # A decode that stops short of the audio's end (beam search ends a sentence
        # early, "... T-Rex" for "... T-Rex war ihm nicht gewachsen") leaves speech
        # undecoded: as faster-whisper's own loop does, the rest is decoded again, after
        # the words so far as its prompt.
        for _ in range(_RECORD_WINDOWS):
            rest = audio[int(offset * SAMPLE_RATE) :]
            features = model.feature_extractor(rest)
            num_frames = min(features.shape[-1] - 1, model.feature_extractor.nb_max_frames)
            window = encoder_window(model, features, num_frames, settings.record_encoder_margin_s)
            with hold():
                encoder_output = model.encode(window)
            context = " ".join(part for part in (prompt, join_words(words)) if part)
            found = decode_words(
                model, encoder_output, tokenizer, context, num_frames, settings,
                beam_size=settings.record_beam_size, suppress=suppress, hold=hold, capped=False,
            )  # fmt: skip
            words += [Word(w.start + offset, w.end + offset, w.text, w.probability) for w in found]
            if not found or speech_end_s - words[-1].end < _RECORD_REST_S:
                return words
            offset = words[-1].end
        return words
    except Exception as exc:
        raise BackendError("record pass", str(exc)) from exc


def translate_speech(
    model: SpeechModel, audio: Samples, language: str, prompt: str, settings: AsrSettings
) -> str:
    """Whisper's English for one final's audio, as background work on the shared model.

    Not faster-whisper's ``transcribe``: that pads the audio to a 30 s window, and its
    decode would hold the model for a second or more while live passes wait.  Here the
    encoder sees the audio plus ``encoder_margin_s`` (as a live pass does), and the
    encoder run and the decode each wait at the model's gate until no live pass does.
    Audio longer than one window is translated in even pieces.
    """
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

    gate = gate_of(model)
    longest = model.feature_extractor.nb_max_frames / model.frames_per_second - _WINDOW_STEP_S
    pieces = max(1, int(np.ceil(len(audio) / SAMPLE_RATE / longest)))
    tokenizer = Tokenizer(
        model.hf_tokenizer, model.model.is_multilingual, task="translate", language=language
    )
    start = [*start_tokens(model, tokenizer, prompt), tokenizer.no_timestamps]
    suppress = list(get_suppressed_tokens(tokenizer, (-1,)) or ())
    texts = []
    for piece in np.array_split(audio, pieces):
        features = model.feature_extractor(piece)
        num_frames = features.shape[-1] - 1  # the last frame is padding
        window = encoder_window(model, features, num_frames, settings.encoder_margin_s)
        with gate.background():
            encoder_output = model.encode(window)
        new_tokens = new_token_cap(num_frames / model.frames_per_second)
        with gate.background():
            result = model.model.generate(
                encoder_output,
                [start],
                beam_size=settings.speech_translation_beam_size,
                max_length=min(model.max_length, len(start) + new_tokens),
                suppress_blank=True,
                suppress_tokens=suppress,
            )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        loop = runaway_loop_start(tokens)
        text = tokenizer.decode(tokens[:loop] if loop is not None else tokens).strip()
        if text and get_compression_ratio(text) <= settings.compression_ratio_threshold:
            texts.append(text)
    return " ".join(texts)


def transcribe_offline(
    model: SpeechModel,
    audio: Samples,
    settings: AsrSettings,
    progress: Callable[[float], None] | None = None,
) -> Iterator[OfflineSegment]:
    """A whole recording at once, with faster-whisper's own VAD and decoding.

    By default faster-whisper's sequential ``transcribe``, called as plain
    faster-whisper is (beam 5, its VAD, no previous text as prompt): 30 s windows that
    follow the decoded timestamps, with temperature fallback.  Its batched pipeline
    (``offline_batched``) decodes VAD chunks of ``offline_chunk_s`` each on its own,
    without fallback; on a CPU it measured less accurate on most files and slower
    (scripts/bench_offline.py).  ``progress`` is called with the seconds of audio done
    so far.
    """
    try:
        segments, info = (
            _batched_segments(model, audio, settings)
            if settings.offline_batched
            else _sequential_segments(model, audio, settings)
        )
    except Exception as exc:
        raise BackendError("speech recognition", str(exc)) from exc
    language = "en" if settings.task == "translate" else info.language
    for segment in segments:
        if progress is not None:
            progress(min(segment.end, len(audio) / SAMPLE_RATE))
        text = segment.text.strip()
        # Whisper's no-speech rule; the sequential decoder has applied it already.
        if segment.no_speech_prob > settings.no_speech_threshold and (
            segment.avg_logprob < settings.log_prob_threshold
        ):
            continue
        if text and any(ch.isalnum() for ch in text):
            yield OfflineSegment(round(segment.start, 3), round(segment.end, 3), text, language)


def _sequential_segments(
    model: SpeechModel, audio: Samples, settings: AsrSettings
) -> tuple[Any, Any]:
    return model.transcribe(
        audio,
        language=settings.language,
        task=settings.task,
        beam_size=settings.offline_beam_size,
        vad_filter=True,
        # A window that went wrong is not carried into the next as its prompt.
        condition_on_previous_text=False,
        no_speech_threshold=settings.no_speech_threshold,
        log_prob_threshold=settings.log_prob_threshold,
        compression_ratio_threshold=settings.compression_ratio_threshold,
    )


def _batched_segments(model: SpeechModel, audio: Samples, settings: AsrSettings) -> tuple[Any, Any]:
    from faster_whisper import BatchedInferencePipeline

    pipeline = BatchedInferencePipeline(model=model)
    return pipeline.transcribe(  # type: ignore[no-any-return]
        audio,
        language=settings.language,
        task=settings.task,
        beam_size=settings.offline_beam_size,
        batch_size=settings.offline_batch_size,
        vad_filter=True,
        # Whisper base drops sentences from long windows without timestamps; 10 s
        # chunks measured best on the evaluation streams (scripts/bench_asr.py).
        chunk_length=settings.offline_chunk_s,
        no_speech_threshold=settings.no_speech_threshold,
        log_prob_threshold=settings.log_prob_threshold,
        compression_ratio_threshold=settings.compression_ratio_threshold,
    )

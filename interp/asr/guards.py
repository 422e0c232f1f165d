"""Guards against what Whisper does on audio that is not clear speech (sans-I/O)."""

from __future__ import annotations

from collections.abc import Sequence

from ..events import Word
from .agreement import normalise

SENTENCE_ENDS = frozenset(".?!。？！…។៕؟؛")
_CLOSERS = "\"'”’»)]」』"


def ends_sentence(word: Word) -> bool:
    """Whether ``word`` closes a sentence (quotes and brackets after the mark allowed)."""
    text = word.text.rstrip().rstrip(_CLOSERS)
    return bool(text) and text[-1] in SENTENCE_ENDS


def cut_repetition_loop(words: list[Word], max_ngram: int = 6) -> list[Word]:
    """Cut a hypothesis where it starts looping.

    A word repeated four times in a row, or a phrase of two to ``max_ngram`` words
    repeated three times in a row, is the decoder stuck in a loop: the hypothesis is
    cut after the first occurrence.
    """
    keys = [normalise(w.text) for w in words]
    for start in range(len(keys)):
        for size in range(1, max_ngram + 1):
            needed = 4 if size == 1 else 3
            if start + size * needed > len(keys):
                break
            gram = keys[start : start + size]
            if all(keys[start + k * size : start + (k + 1) * size] == gram for k in range(needed)):
                return words[: start + size]
    return words


def cut_repeated_tail(words: list[Word], min_words: int = 4) -> list[Word]:
    """Cut the end of a hypothesis where it repeats the phrase just before it.

    When the decoder runs out of audio it may start the buffer's text over again
    ("... de l'usoc. Nous sommes d'accord avec l"): a run of at least ``min_words``
    words, reaching the end of the hypothesis, that copies the words ``period``
    (at least ``min_words``) before it.  Shorter or mid-hypothesis repeats are
    speech and stay.
    """
    keys = [normalise(w.text) for w in words]
    count = len(keys)
    for start in range(min_words, count - min_words + 1):
        for period in range(min_words, start + 1):
            if all(keys[k] == keys[k - period] for k in range(start, count)):
                return words[:start]
    return words


def heard_words(words: list[Word]) -> list[Word]:
    """The words the alignment found any audio for.

    Whisper's invented words (a breath heard as "habe es nicht.") are aligned to no
    audio at all: they start and end at the same instant.
    """
    return [w for w in words if w.end > w.start]


def runaway_loop_start(
    tokens: Sequence[int], max_period: int = 32, min_repeats: int = 3, min_tokens: int = 8
) -> int | None:
    """Where a decode fell into a loop it never left, or None.

    The loop is the longest stretch reaching the end of ``tokens`` that repeats one
    run of at most ``max_period`` tokens, at least ``min_repeats`` times and over at
    least ``min_tokens`` tokens ("how acidic ____…", "recorded by a looing account …
    by a looing account …").  What comes before it is often sound speech, which a
    compression-ratio check alone would throw away with the loop.
    """
    count = len(tokens)
    earliest: int | None = None
    for period in range(1, min(max_period, count // min_repeats) + 1):
        start = count - period
        while start > 0 and tokens[start - 1] == tokens[start - 1 + period]:
            start -= 1
        looped = count - start
        if looped >= max(min_tokens, period * min_repeats) and (
            earliest is None or start < earliest
        ):
            earliest = start
    return earliest

"""Guards against what Whisper does on audio that is not clear speech (sans-I/O)."""

from __future__ import annotations

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

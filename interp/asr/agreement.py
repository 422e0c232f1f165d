"""LocalAgreement-2: commit the words two consecutive hypotheses agree on (sans-I/O).

This is the policy of Macháček et al. (whisper_streaming), written anew from its
description: each pass over the growing buffer yields a hypothesis; the longest
common prefix of this hypothesis and the previous one, beyond what is already
committed, is committed and never taken back.  Words that reach back into committed
time are dropped, as is a repeat of the committed tail at the seam.
"""

from __future__ import annotations

import difflib
import unicodedata

from ..events import Word

_SEAM_TOLERANCE_S = 0.1
_MAX_SEAM_NGRAM = 5
_CONFIRMING_WORDS = 2


def normalise(text: str) -> str:
    """Word identity for agreement: case, punctuation and spacing do not count."""
    kept = (ch for ch in text.casefold() if not unicodedata.category(ch).startswith(("P", "Z")))
    return "".join(kept)


def _agreed_length(previous: list[str], fresh: list[str]) -> int:
    """How many leading words of ``fresh`` the two hypotheses agree on.

    The common prefix, extended across a one-word difference (a word changed, added
    or dropped) when at least two agreeing words follow it: both passes heard the
    same speech there, the newer one with more context, and without this one unsure
    word ("in"/"and", "an easy"/"easy") holds back every commit behind it until the
    speaker pauses.
    """
    blocks = difflib.SequenceMatcher(None, previous, fresh, autojunk=False).get_opcodes()
    agreed = 0
    for index, (tag, prev_start, prev_end, fresh_start, fresh_end) in enumerate(blocks):
        if tag == "equal":
            agreed = fresh_end
            continue
        small = prev_end - prev_start <= 1 and fresh_end - fresh_start <= 1
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        confirmed = (
            following is not None
            and following[0] == "equal"
            and following[4] - following[3] >= _CONFIRMING_WORDS
        )
        if not (small and confirmed):
            break
    return agreed


class LocalAgreement:
    """Hypothesis buffer with LocalAgreement-2 commits."""

    def __init__(self) -> None:
        self.committed_end = 0.0
        """End time of the last committed word."""
        self._recent: list[Word] = []
        self._previous: list[Word] = []

    @property
    def tentative(self) -> list[Word]:
        """Words of the latest hypothesis not yet committed."""
        return list(self._previous)

    def insert(self, words: list[Word]) -> list[Word]:
        """Take a new hypothesis (absolute times); return the words it commits."""
        # A word of punctuation alone can never be agreed on by normalised text, and
        # would block every commit after it.
        fresh = [
            w
            for w in words
            if w.start > self.committed_end - _SEAM_TOLERANCE_S and normalise(w.text)
        ]
        fresh = self._drop_seam_repeat(fresh)
        agreed = _agreed_length(
            [normalise(w.text) for w in self._previous], [normalise(w.text) for w in fresh]
        )
        committed = [self._settled_version(fresh, self._previous, index) for index in range(agreed)]
        self._previous = fresh[agreed:]
        self._remember(committed)
        return committed

    def flush(self) -> list[Word]:
        """Commit whatever the last hypothesis still holds (end of an utterance)."""
        committed = [w for w in self._previous if normalise(w.text)]
        self._previous = []
        self._remember(committed)
        return committed

    def new_utterance(self) -> None:
        """Speech resumed after a pause: its audio cannot overlap what was committed."""
        self._previous = []
        self._recent = []

    def forget_tentative(self, before: float | None = None) -> None:
        """Drop uncommitted words, or only those starting before ``before`` (trimmed audio)."""
        if before is None:
            self._previous = []
        else:
            self._previous = [w for w in self._previous if w.start >= before]

    @staticmethod
    def _settled_version(fresh: list[Word], previous: list[Word], index: int) -> Word:
        # Whisper ends a hypothesis with a full stop where the audio stops; a version
        # of the word that had more words after it is the better-informed one.
        newest = fresh[index]
        if index == len(fresh) - 1 and index < len(previous) - 1:
            older = previous[index]
            return Word(newest.start, newest.end, older.text, newest.probability)
        return newest

    def _remember(self, committed: list[Word]) -> None:
        if committed:
            self.committed_end = max(self.committed_end, committed[-1].end)
            self._recent = (self._recent + committed)[-_MAX_SEAM_NGRAM:]

    def _drop_seam_repeat(self, fresh: list[Word]) -> list[Word]:
        """Drop a prefix of ``fresh`` that repeats the last committed n words."""
        if not fresh or not self._recent or abs(fresh[0].start - self.committed_end) >= 1.0:
            return fresh
        for size in range(min(len(self._recent), len(fresh), _MAX_SEAM_NGRAM), 0, -1):
            tail = [normalise(w.text) for w in self._recent[-size:]]
            head = [normalise(w.text) for w in fresh[:size]]
            if tail == head:
                return fresh[size:]
        return fresh

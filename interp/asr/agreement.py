"""LocalAgreement-2: commit the words two consecutive hypotheses agree on (sans-I/O).

This is the policy of Macháček et al. (whisper_streaming), written anew from its
description: each pass over the growing buffer yields a hypothesis; the longest
common prefix of this hypothesis and the previous one, beyond what is already
committed, is committed and never taken back.  Words that reach back into committed
time are dropped, as is a repeat of the committed tail at the seam.

With a commit horizon it also commits by alignment, the idea of AlignAtt (Papi et
al.; SimulStreaming) done on the word timestamps Whisper's cross-attention already
gives: a word aligned to end at least ``horizon_s`` before the end of the audio was
heard with all the context after it that the decoder needs, so one pass is enough.
Agreement stays the fallback for the words nearer the end.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import replace

from ..events import Word

_SEAM_TOLERANCE_S = 0.1
_MAX_SEAM_NGRAM = 5
_CONFIRMING_WORDS = 2


def normalise(text: str) -> str:
    """Word identity for agreement: case, punctuation and spacing do not count."""
    kept = (ch for ch in text.casefold() if not unicodedata.category(ch).startswith(("P", "Z")))
    return "".join(kept)


def _agree(previous: list[Word], fresh: list[Word]) -> tuple[list[Word], int]:
    """The words two consecutive hypotheses agree on, and how many of ``fresh`` they use.

    The common prefix, extended across a one-word difference when at least two
    agreeing words follow it: both passes heard the same speech there, and without
    this one unsure word ("in"/"and") holds back every commit behind it until the
    speaker pauses.  A changed or added word is taken from the newer hypothesis, a
    dropped one from the older (Whisper often loses the first word of a buffer), so
    nothing either pass heard is lost.
    """
    blocks = difflib.SequenceMatcher(
        None,
        [normalise(w.text) for w in previous],
        [normalise(w.text) for w in fresh],
        autojunk=False,
    ).get_opcodes()
    agreed: list[Word] = []
    used = 0
    for index, (tag, prev_start, prev_end, fresh_start, fresh_end) in enumerate(blocks):
        if tag == "equal":
            agreed += [
                _settled_version(previous, prev_start + k, fresh, fresh_start + k)
                for k in range(fresh_end - fresh_start)
            ]
            used = fresh_end
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        confirmed = (
            following is not None
            and following[0] == "equal"
            and following[4] - following[3] >= _CONFIRMING_WORDS
        )
        if prev_end - prev_start > 1 or fresh_end - fresh_start > 1 or not confirmed:
            break
        agreed += fresh[fresh_start:fresh_end] or previous[prev_start:prev_end]
        used = fresh_end
    return agreed, used


def _aligned_prefix(words: list[Word], settled_before: float) -> list[Word]:
    """The leading ``words`` aligned to end by ``settled_before``, but never a
    hypothesis's last word: where Whisper stops early, its last word carries the full
    stop it puts where it stops, and the speech after it is still unheard."""
    count = 0
    while count < len(words) - 1 and words[count].end <= settled_before:
        count += 1
    return words[:count]


def _settled_version(previous: list[Word], prev_index: int, fresh: list[Word], index: int) -> Word:
    """The newer version of an agreed word, but with the older spelling when the newer
    one ends its hypothesis and the older one does not: Whisper puts a full stop
    where the audio stops, and the version with more words after it knows better."""
    newest = fresh[index]
    if index == len(fresh) - 1 and prev_index < len(previous) - 1:
        return Word(newest.start, newest.end, previous[prev_index].text, newest.probability)
    return newest


class LocalAgreement:
    """Hypothesis buffer with LocalAgreement-2 commits, and alignment commits when
    ``horizon_s`` is above 0."""

    def __init__(self, horizon_s: float = 0.0) -> None:
        self.horizon_s = horizon_s
        self.committed_end = 0.0
        """End time of the last committed word."""
        self._recent: list[Word] = []
        self._previous: list[Word] = []

    @property
    def tentative(self) -> list[Word]:
        """Words of the latest hypothesis not yet committed."""
        return list(self._previous)

    def insert(self, words: list[Word], audio_end: float | None = None) -> list[Word]:
        """Take a new hypothesis (absolute times); return the words it commits.

        ``audio_end`` is where the audio the hypothesis heard ends; without it (or
        without a horizon) only agreement commits.
        """
        # A word of punctuation alone can never be agreed on by normalised text, and
        # would block every commit after it.
        fresh = [
            w
            for w in words
            # A word ending inside committed time was heard again, not said again.
            if w.start > self.committed_end - _SEAM_TOLERANCE_S
            and w.end > self.committed_end
            and normalise(w.text)
        ]
        fresh = self._drop_seam_repeat(fresh)
        committed, used = _agree(self._previous, fresh)
        if self.horizon_s > 0 and audio_end is not None:
            aligned = _aligned_prefix(fresh[used:], audio_end - self.horizon_s)
            committed += aligned
            used += len(aligned)
        self._previous = fresh[used:]
        self._remember(committed)
        return committed

    def flush(self, speech_end: float | None = None) -> list[Word]:
        """Commit whatever the last hypothesis still holds (end of an utterance).

        With ``speech_end`` (where voice detection heard the speech stop) no word
        ends after it: the last word's alignment runs on into the silence, and a
        committed end there would make the next utterance's first word look heard.
        """
        committed = [
            w if speech_end is None else replace(w, end=max(w.start, min(w.end, speech_end)))
            for w in self._previous
            if normalise(w.text)
        ]
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

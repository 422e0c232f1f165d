"""LocalAgreement-2: commits are append-only prefixes of what the audio says."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.asr.agreement import LocalAgreement, normalise
from interp.events import Word

VOCABULARY = [f" w{i}" for i in range(200)]


@st.composite
def true_words(draw: st.DrawFn, min_size: int = 1, max_size: int = 25) -> list[Word]:
    """A true word sequence: unique words, increasing non-overlapping times."""
    count = draw(st.integers(min_size, max_size))
    texts = draw(st.permutations(VOCABULARY))[:count]
    words, time = [], draw(st.floats(0, 5))
    for text in texts:
        time += draw(st.floats(0, 0.5))  # gap
        length = draw(st.floats(0.05, 1.0))
        words.append(Word(round(time, 3), round(time + length, 3), text))
        time += length
    return words


def variant(word: Word, style: int) -> Word:
    """The same word as another pass may spell it (case, trailing punctuation)."""
    text = [word.text, word.text.upper(), word.text + ".", word.text + ","][style]
    return Word(word.start, word.end, text, word.probability)


@st.composite
def hypothesis_runs(draw: st.DrawFn) -> tuple[list[Word], list[list[Word]]]:
    """The truth and a run of hypotheses, each a (re-spelt) prefix of the truth."""
    truth = draw(true_words())
    runs = []
    for _ in range(draw(st.integers(1, 30))):
        length = draw(st.integers(0, len(truth)))
        styles = draw(st.lists(st.integers(0, 3), min_size=length, max_size=length))
        runs.append([variant(w, s) for w, s in zip(truth[:length], styles, strict=True)])
    return truth, runs


def keys(words: list[Word]) -> list[str]:
    return [normalise(w.text) for w in words]


@settings(max_examples=300, deadline=None)
@given(hypothesis_runs())
def test_commits_are_an_append_only_prefix_of_the_truth(
    run: tuple[list[Word], list[list[Word]]],
) -> None:
    truth, hypotheses = run
    agreement = LocalAgreement()
    committed: list[Word] = []
    ends = [agreement.committed_end]
    for words in hypotheses:
        before = list(committed)
        committed += agreement.insert(words)
        assert committed[: len(before)] == before  # nothing retracted or changed
        assert keys(committed) == keys(truth[: len(committed)])
        ends.append(agreement.committed_end)
    committed += agreement.flush()
    ends.append(agreement.committed_end)
    assert keys(committed) == keys(truth[: len(committed)])
    # flush commits what the last hypothesis still held: nothing of it is lost
    assert len(committed) >= len(hypotheses[-1])
    assert ends == sorted(ends)
    starts = [w.start for w in committed]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(committed, committed[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(hypothesis_runs())
def test_a_final_full_hypothesis_then_flush_commits_the_whole_truth(
    run: tuple[list[Word], list[list[Word]]],
) -> None:
    truth, hypotheses = run
    agreement = LocalAgreement()
    committed: list[Word] = []
    for words in [*hypotheses, truth]:
        committed += agreement.insert(words)
    committed += agreement.flush()
    assert keys(committed) == keys(truth)
    assert agreement.flush() == []  # a second flush has nothing left


@settings(max_examples=200, deadline=None)
@given(true_words(min_size=2))
def test_a_word_commits_once_two_passes_agree_on_it(truth: list[Word]) -> None:
    agreement = LocalAgreement()
    assert agreement.insert(truth) == []  # one pass alone commits nothing
    assert keys(agreement.tentative) == keys(truth)
    assert keys(agreement.insert(truth)) == keys(truth)
    assert agreement.tentative == []
    assert agreement.committed_end == truth[-1].end


def test_the_better_informed_spelling_of_the_last_agreed_word_is_kept() -> None:
    # Whisper ends a hypothesis with "." where the audio stops; a later pass that saw
    # more words spelt it without.  The older spelling (with words after it) wins.
    a, b, c = Word(0.0, 0.4, " one"), Word(0.5, 0.9, " two"), Word(1.0, 1.4, " three")
    agreement = LocalAgreement()
    agreement.insert([a, b, c])
    committed = agreement.insert([a, Word(b.start, b.end, " two.")])
    assert [w.text for w in committed] == [" one", " two"]


def test_forget_tentative_before_a_time() -> None:
    words = [Word(0.0, 0.4, " one"), Word(0.5, 0.9, " two"), Word(1.0, 1.4, " three")]
    agreement = LocalAgreement()
    agreement.insert(words)
    agreement.forget_tentative(before=0.5)
    assert [w.text for w in agreement.tentative] == [" two", " three"]
    agreement.forget_tentative()
    assert agreement.tentative == []
    assert agreement.flush() == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (" Hello,", "hello"),
        ("HELLO", "hello"),
        (" ¿Qué?", "qué"),
        (" 你好。", "你好"),
        (" ...", ""),
    ],
)
def test_normalise(text: str, key: str) -> None:
    assert normalise(text) == key


def test_a_punctuation_only_word_does_not_block_later_commits() -> None:
    words = [
        Word(0.0, 0.4, " so"),
        Word(0.5, 0.6, " —"),
        Word(0.7, 1.0, " we"),
        Word(1.1, 1.5, " begin"),
    ]
    agreement = LocalAgreement()
    agreement.insert(words)
    committed = agreement.insert(words)
    assert keys(committed) == ["so", "", "we", "begin"] or keys(committed) == ["so", "we", "begin"]


@pytest.mark.xfail(
    strict=True,
    reason="LIMITATION agreement.py LocalAgreement._drop_seam_repeat: a genuinely "
    "repeated word or phrase starting within 1 s of the committed end ('had had', "
    "'Thank you. Thank you.') is dropped as if it were a re-recognised seam",
)
def test_a_genuine_repetition_after_the_committed_tail_is_kept() -> None:
    first = [Word(0.0, 0.3, " I"), Word(0.4, 0.7, " had")]
    agreement = LocalAgreement()
    agreement.insert(first)
    committed = agreement.insert(first)
    assert keys(committed) == ["i", "had"]
    more = [*first, Word(0.8, 1.1, " had"), Word(1.2, 1.6, " enough")]
    committed += agreement.insert(more)
    committed += agreement.insert(more)
    assert keys(committed) == ["i", "had", "had", "enough"]


@st.composite
def runs_with_punctuation_words(draw: st.DrawFn) -> tuple[list[Word], list[list[Word]]]:
    """Like hypothesis_runs, with words of punctuation alone (" —", " ...") in the truth."""
    truth, runs = draw(hypothesis_runs())
    marks = draw(st.lists(st.booleans(), min_size=len(truth), max_size=len(truth)))
    dashed = {i for i, mark in enumerate(marks) if mark}

    def with_dashes(words: list[Word]) -> list[Word]:
        out: list[Word] = []
        for i, word in enumerate(words):
            out.append(word)
            if i in dashed:  # a short dash word right after this one, before the next
                out.append(Word(word.end, word.end, " —" if i % 2 else " ..."))
        return out

    return with_dashes(truth), [with_dashes(words) for words in runs]


@settings(max_examples=200, deadline=None)
@given(runs_with_punctuation_words())
def test_punctuation_only_words_neither_block_nor_get_committed(
    run: tuple[list[Word], list[list[Word]]],
) -> None:
    truth, hypotheses = run
    spoken = [w for w in truth if normalise(w.text)]
    agreement = LocalAgreement()
    committed: list[Word] = []
    for words in [*hypotheses, truth, truth]:
        committed += agreement.insert(words)
    # two passes over the whole truth agree on all of it: nothing is left to flush
    assert keys(committed) == keys(spoken)
    assert agreement.flush() == []


def spoken(text: str) -> list[Word]:
    """Whisper-like words of ``text``, 0.5 s apart."""
    return [Word(0.5 * i, 0.5 * i + 0.4, f" {token}") for i, token in enumerate(text.split())]


@pytest.mark.parametrize(
    ("older", "newer", "committed", "tentative"),
    [
        # one changed word, confirmed by the two after it: the newer version wins
        (
            "hidden in expressed. The",
            "hidden and expressed. The aspect",
            ["hidden", "and", "expressed", "the"],
            ["aspect"],
        ),
        # one added word, confirmed likewise
        (
            "within easy reach is",
            "within an easy reach is a",
            ["within", "an", "easy", "reach", "is"],
            ["a"],
        ),
        # two unsure words in a row stop the commit
        ("a b c d", "a x y d", ["a"], ["x", "y", "d"]),
        # an unsure last word is not committed
        ("a b c", "a b z", ["a", "b"], ["z"]),
    ],
)
def test_second_pass_commits(
    older: str, newer: str, committed: list[str], tentative: list[str]
) -> None:
    agreement = LocalAgreement()
    agreement.insert(spoken(older))
    assert keys(agreement.insert(spoken(newer))) == committed
    assert keys(agreement.tentative) == tentative


def test_a_word_the_newer_pass_dropped_is_kept_and_nothing_doubles() -> None:
    """Whisper often loses a buffer's first word: the older pass's is kept, in place."""
    older = spoken("styles in the west 30 years.")
    newer = older[1:]
    agreement = LocalAgreement()
    agreement.insert(older)
    assert keys(agreement.insert(newer)) == ["styles", "in", "the", "west", "30", "years"]
    assert agreement.tentative == []


def test_a_committed_word_heard_again_is_not_committed_twice() -> None:
    """Found by the property test: floating-point rounding let a re-heard word through."""
    w0, w1 = Word(1.052, 1.102, " w0"), Word(1.102, 1.152, " w1")
    agreement = LocalAgreement()
    committed = agreement.insert([w0, w1]) + agreement.insert([w0, w1])
    for hypothesis in ([w0], [w0], [w0, w1]):
        committed += agreement.insert(hypothesis)
    committed += agreement.flush()
    assert keys(committed) == ["w0", "w1"]


def test_flush_holds_the_last_word_to_the_end_of_speech() -> None:
    """The next utterance's first word, aligned early, is not taken for a re-hearing."""
    stretched = [Word(0.0, 0.4, " the"), Word(0.4, 1.6, " blogs.")]  # runs into silence
    agreement = LocalAgreement()
    agreement.insert(stretched)
    flushed = agreement.flush(speech_end=1.0)
    assert [(w.text, w.end) for w in flushed] == [(" the", 0.4), (" blogs.", 1.0)]
    agreement.new_utterance()
    heard_again = [Word(0.0, 0.4, " the"), Word(0.4, 0.9, " blogs"), Word(1.2, 1.5, " can")]
    agreement.insert(heard_again)
    assert keys(agreement.insert(heard_again)) == ["can"]


# -- alignment commits (a commit horizon) -------------------------------------------


@settings(max_examples=300, deadline=None)
@given(hypothesis_runs(), st.sampled_from([0.3, 1.0, 2.0]), st.floats(0, 3))
def test_alignment_commits_are_still_an_append_only_prefix_of_the_truth(
    run: tuple[list[Word], list[list[Word]]], horizon_s: float, heard_past_s: float
) -> None:
    truth, hypotheses = run
    agreement = LocalAgreement(horizon_s)
    committed: list[Word] = []
    for words in hypotheses:
        before = list(committed)
        audio_end = (words[-1].end if words else truth[0].start) + heard_past_s
        committed += agreement.insert(words, audio_end)
        assert committed[: len(before)] == before
        assert keys(committed) == keys(truth[: len(committed)])
    committed += agreement.flush()
    assert keys(committed) == keys(truth[: len(committed)])
    assert all(a.end <= b.start for a, b in zip(committed, committed[1:], strict=False))


@settings(max_examples=200, deadline=None)
@given(true_words(min_size=2), st.sampled_from([0.3, 1.0, 2.0]))
def test_one_pass_commits_the_words_aligned_before_the_horizon_but_not_its_last(
    truth: list[Word], horizon_s: float
) -> None:
    audio_end = truth[-1].end + 0.2
    agreement = LocalAgreement(horizon_s)
    committed = agreement.insert(truth, audio_end)
    # a prefix: the first word past the horizon, or the last word, stops the commit
    expected: list[Word] = []
    for word in truth[:-1]:
        if word.end > audio_end - horizon_s:
            break
        expected.append(word)
    assert keys(committed) == keys(expected)
    assert keys(agreement.tentative) == keys(truth[len(committed) :])
    # without the audio's end (a first pass) or with no horizon, one pass commits nothing
    assert LocalAgreement(horizon_s).insert(truth) == []
    assert LocalAgreement().insert(truth, audio_end) == []


def test_a_hypothesis_that_stops_early_keeps_its_last_word_open() -> None:
    # Whisper heard two words of five seconds of audio and put a full stop on the second:
    # the words after it are still to come, so the full stop must not end a sentence.
    words = [Word(0.0, 0.4, " Good"), Word(0.5, 0.9, " morning.")]
    agreement = LocalAgreement(1.0)
    assert keys(agreement.insert(words, audio_end=5.0)) == ["good"]
    assert keys(agreement.tentative) == ["morning"]

"""Guards: repetition loops are cut, sentence ends are recognised."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interp.asr.agreement import normalise
from interp.asr.guards import (
    cut_repeated_tail,
    cut_repetition_loop,
    ends_sentence,
    heard_words,
    runaway_loop_start,
)
from interp.events import Word


def words_of(text: str) -> list[Word]:
    return [Word(i * 0.5, i * 0.5 + 0.4, " " + token) for i, token in enumerate(text.split())]


def texts(words: list[Word]) -> str:
    return "".join(w.text for w in words).strip()


def has_loop(words: list[Word], max_ngram: int = 6) -> bool:
    """Brute force: a word four times in a row, or a 2..max_ngram phrase three times."""
    keys = [normalise(w.text) for w in words]
    for size in range(1, max_ngram + 1):
        needed = 4 if size == 1 else 3
        span = size * needed
        for start in range(len(keys) - span + 1):
            gram = keys[start : start + size]
            if keys[start : start + span] == gram * needed:
                return True
    return False


# A tiny vocabulary makes loops likely; spelling variants must not hide them.
word_lists = st.lists(
    st.sampled_from([" a", " A", " a.", " b", " b,", " c", " ..."]), max_size=30
).map(lambda tokens: [Word(i * 0.1, i * 0.1 + 0.05, t) for i, t in enumerate(tokens)])


@settings(max_examples=500, deadline=None)
@given(word_lists)
def test_cut_returns_a_loop_free_prefix(words: list[Word]) -> None:
    cut = cut_repetition_loop(words)
    assert len(cut) <= len(words)
    assert cut == words[: len(cut)]
    assert not has_loop(cut)
    assert cut_repetition_loop(cut) == cut  # idempotent
    if not has_loop(words):
        assert cut == words
    else:
        assert len(cut) < len(words)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10_000), unique=True, max_size=40))
def test_distinct_words_are_never_cut(numbers: list[int]) -> None:
    words = [Word(i, i + 0.5, f" w{n}") for i, n in enumerate(numbers)]
    assert cut_repetition_loop(words) == words


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("the the the the the", "the"),
        ("and then the the the the the end", "and then the"),
        ("The the, THE the.", "The"),
        ("thank you thank you thank you thank you", "thank you"),
        ("we will we will we will rock you", "we will"),
        ("one two three one two three one two three", "one two three"),
        ("a b c d e f a b c d e f a b c d e f", "a b c d e f"),
        ("the the the", "the the the"),  # three times is still speech
        ("very very very good", "very very very good"),
        ("thank you thank you", "thank you thank you"),
        ("a b c d e f g a b c d e f g a b c d e f g", "a b c d e f g a b c d e f g a b c d e f g"),
        ("", ""),
    ],
)
def test_cut_repetition_loop_examples(text: str, kept: str) -> None:
    assert texts(cut_repetition_loop(words_of(text))) == kept


def test_max_ngram_bounds_the_phrases_looked_for() -> None:
    words = words_of("a b c a b c a b c")
    assert texts(cut_repetition_loop(words, max_ngram=2)) == "a b c a b c a b c"
    assert texts(cut_repetition_loop(words, max_ngram=3)) == "a b c"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "nous sommes d'accord avec la déclaration. Nous sommes d'accord avec la",
            "nous sommes d'accord avec la déclaration.",
        ),
        ("a b c d a b c d", "a b c d"),
        ("x y a b c d e a b c d e", "x y a b c d e"),
        ("a b c d a b c", "a b c d a b c"),  # three words: may be speech
        ("a b c d a b c d and so on", "a b c d a b c d and so on"),  # not at the end
        ("thank you thank you", "thank you thank you"),
        ("", ""),
    ],
)
def test_cut_repeated_tail_examples(text: str, kept: str) -> None:
    assert texts(cut_repeated_tail(words_of(text))) == kept


@settings(max_examples=300, deadline=None)
@given(word_lists)
def test_cut_repeated_tail_keeps_a_prefix_without_a_repeated_tail(words: list[Word]) -> None:
    cut = cut_repeated_tail(words)
    assert cut == words[: len(cut)]
    keys = [normalise(w.text) for w in words]
    if len(cut) < len(words):
        assert len(words) - len(cut) >= 4
        assert any(
            all(keys[k] == keys[k - period] for k in range(len(cut), len(keys)))
            for period in range(4, len(cut) + 1)
        ), "what was cut repeats the words before it"


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        (" end.", True),
        (" what?", True),
        (" wow!", True),
        (" so…", True),
        (" 好。", True),
        (" 什么？", True),
        (' "quoted."', True),
        (" (aside.)", True),
        (" «fin.»", True),
        (" end. ", True),
        (" comma,", False),
        (" word", False),
        (" .", True),
        ("", False),
        (" ", False),
        (' "', False),
    ],
)
def test_ends_sentence(text: str, ends: bool) -> None:
    assert ends_sentence(Word(0.0, 1.0, text)) is ends


def test_heard_words_drops_words_aligned_to_no_audio() -> None:
    words = [Word(0.0, 0.4, " Thank"), Word(0.4, 0.7, " you."), Word(1.2, 1.2, " habe")]
    assert texts(heard_words(words)) == "Thank you."
    assert heard_words([Word(3.0, 3.0, " es"), Word(3.0, 3.0, " nicht.")]) == []


@pytest.mark.parametrize(
    ("tokens", "start"),
    [
        ([1, 2, 3] + [9] * 20, 3),  # "how acidic ____…"
        ([1, 2] + [4, 5, 6] * 5 + [4], 2),  # a phrase over and over, cut mid-phrase
        ([4, 5, 6, 7] * 4, 0),  # nothing but the loop
        (list(range(40)), None),  # no repeat
        ([1, 2, 2, 2, 3], None),  # a repeat the decoder left again
        ([1, 2] + [7, 7, 7], None),  # too short to be a runaway
    ],
)
def test_runaway_loop_start_examples(tokens: list[int], start: int | None) -> None:
    assert runaway_loop_start(tokens) == start


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 50), max_size=30),
    st.lists(st.integers(0, 50), min_size=1, max_size=8),
    st.integers(3, 12),
)
def test_a_loop_run_to_the_end_is_found_and_the_rest_kept(
    head: list[int], phrase: list[int], times: int
) -> None:
    tokens = head + phrase * times
    start = runaway_loop_start(tokens)
    if len(phrase) * times < 8:
        return
    assert start is not None and start <= len(head)
    assert tokens[:start] == head[:start]  # only the loop is cut
    assert len(tokens) - start >= 8

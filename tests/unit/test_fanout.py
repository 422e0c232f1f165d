"""The fan-out policy: partials may be dropped, finals never; history resumes exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from interp.fanout import History, Outbox
from interp.wire import Message, decode, encode

KINDS = ["partial", "final", "translation", "status"]


def stream(kinds: list[tuple[str, int]]) -> list[Message]:
    return [
        Message(type=kind, session="s", seq=i + 1, segment=f"seg-{seg}", lang="en")  # type: ignore[arg-type]
        for i, (kind, seg) in enumerate(kinds)
    ]


messages = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 3)), max_size=200)


@given(messages, st.integers(1, 20), st.lists(st.integers(0, 30), max_size=20))
def test_finals_are_never_dropped_only_refused(
    kinds: list[tuple[str, int]], limit: int, reads: list[int]
) -> None:
    outbox = Outbox(limit)
    delivered: list[Message] = []
    offered: list[Message] = []
    reads_left = list(reads)
    for message in stream(kinds):
        if not outbox.offer(message):
            # Disconnected: everything kept must be finals/translations the reader lags on.
            assert message.type in ("final", "translation")
            assert len(outbox) == limit
            assert all(m.type in ("final", "translation") for m in outbox.take())
            return
        offered.append(message)
        assert len(outbox) <= limit
        if reads_left and reads_left[0] <= len(offered):
            reads_left.pop(0)
            delivered.extend(outbox.take())
    delivered.extend(outbox.take())
    must = [m.seq for m in offered if m.type in ("final", "translation")]
    assert [m.seq for m in delivered if m.type in ("final", "translation")] == must
    seqs = [m.seq for m in delivered]
    assert seqs == sorted(seqs)


def test_a_new_partial_replaces_the_waiting_one() -> None:
    outbox = Outbox(10)
    for message in stream([("partial", 0), ("partial", 0), ("partial", 1), ("final", 0)]):
        assert outbox.offer(message)
    assert [(m.type, m.seq) for m in outbox.take()] == [
        ("partial", 2),
        ("partial", 3),
        ("final", 4),
    ]


def test_a_stalled_reader_is_disconnected_not_waited_for() -> None:
    outbox = Outbox(3)
    results = [outbox.offer(m) for m in stream([("final", i) for i in range(4)])]
    assert results == [True, True, True, False]


@given(messages, st.integers(1, 50), st.integers(0, 250))
def test_history_resumes_without_loss_or_says_it_cannot(
    kinds: list[tuple[str, int]], limit: int, since: int
) -> None:
    history = History("s", limit)
    sent = stream(kinds)
    for message in sent:
        history.record(message)
    replay, complete = history.since(since)
    wanted = [m.seq for m in sent if m.seq > since and m.type not in ("partial", "status")]
    if complete:
        assert [m.seq for m in replay] == wanted
    else:
        assert len(wanted) > len(replay)
        assert [m.seq for m in replay] == wanted[len(wanted) - len(replay) :]
    gap = history.missed(since)
    assert (gap is None) == complete
    if gap is not None:
        assert decode(encode(gap)) == gap
        assert gap.extra["from_seq"] == since + 1
        assert gap.extra["to_seq"] == gap.seq < (replay[0].seq if replay else len(sent) + 1)


def test_preloaded_history_does_not_count_toward_the_limit() -> None:
    outbox = Outbox(3)
    history = stream([("final", i) for i in range(3)])
    outbox.preload(history)
    # The next publish must not find the outbox "full" of the newcomer's history.
    live = stream([("final", i) for i in range(4)])[3]
    assert outbox.offer(live)
    assert [m.seq for m in outbox.take()] == [1, 2, 3, 4]
    # Once taken, the limit applies again as it does for everyone.
    assert [outbox.offer(m) for m in stream([("final", i) for i in range(4)])] == [
        True, True, True, False
    ]  # fmt: skip


def test_history_refuses_another_sessions_message() -> None:
    history = History("a")
    try:
        history.record(Message("final", "b", 1))
    except ValueError:
        return
    raise AssertionError("a message of session b was kept in a's history")

"""The model gate: a live pass never waits behind queued background work.

Threads are ordered by events, not by sleeps: each step waits for the state it needs.
"""

from __future__ import annotations

import threading

from interp.asr.gate import ModelGate

from ..deadlines import Deadline, scaled


def test_background_work_waits_while_a_live_pass_waits() -> None:
    gate = ModelGate()
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first_piece() -> None:
        with gate.background():
            holding.set()
            release.wait(scaled(10))
            order.append("background 1")

    def live_pass() -> None:
        with gate.live():
            order.append("live")

    def second_piece() -> None:
        with gate.background():
            order.append("background 2")

    threads = [threading.Thread(target=first_piece)]
    threads[0].start()
    assert holding.wait(scaled(10))
    live = threading.Thread(target=live_pass)
    live.start()
    queued = Deadline(10)
    while gate._live_waiting == 0:  # the live pass is queued behind the piece under way
        assert not queued.expired, "the live pass never asked for the model"
        live.join(0.001)
    later = threading.Thread(target=second_piece)
    later.start()
    release.set()
    for thread in (threads[0], live, later):
        thread.join(scaled(10))
    # The live pass waited for the piece under way only; the next piece came after it.
    assert order == ["background 1", "live", "background 2"]
    assert gate.background_pieces == 2


def test_a_live_pass_takes_an_idle_model_at_once() -> None:
    gate = ModelGate()
    with gate.live():
        pass
    with gate.background():
        pass
    with gate.live():
        assert gate._busy
    assert not gate._busy


def test_the_record_pass_waits_for_speech_translation_too() -> None:
    gate = ModelGate()
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def live_pass() -> None:
        with gate.live():
            holding.set()
            release.wait(scaled(10))
            order.append("live")

    def record_piece() -> None:
        with gate.background(last=True):
            order.append("record")

    def translation_piece() -> None:
        with gate.background():
            order.append("translation")

    live = threading.Thread(target=live_pass)
    live.start()
    assert holding.wait(scaled(10))
    record = threading.Thread(target=record_piece)
    record.start()  # asks first...
    translation = threading.Thread(target=translation_piece)
    translation.start()
    queued = Deadline(10)
    while gate._urgent_waiting == 0:
        assert not queued.expired, "the translation never asked for the model"
        translation.join(0.001)
    release.set()
    for thread in (live, record, translation):
        thread.join(scaled(10))
    assert order == ["live", "translation", "record"]  # ...and goes last


def test_quiet_background_work_waits_for_a_pause_in_live_passes() -> None:
    now = [100.0]
    gate = ModelGate(clock=lambda: now[0])
    with gate.live():
        pass  # the live pass ended at 100.0
    started = threading.Event()

    def record_piece() -> None:
        with gate.background(last=True, quiet_s=1.0):
            started.set()

    piece = threading.Thread(target=record_piece)
    piece.start()
    # Live passes every 0.5 s keep the model from ever being quiet for 1 s.
    for _ in range(5):
        assert not started.wait(0.05)
        now[0] += 0.5
        with gate.live():
            pass
    assert not started.is_set()
    now[0] += 1.0  # a pause in speech
    with gate._changed:
        gate._changed.notify_all()
    assert started.wait(scaled(10)), "the piece never ran after a second of quiet"
    piece.join(scaled(10))


def test_quiet_counts_from_the_last_live_pass_only() -> None:
    gate = ModelGate(clock=lambda: 0.0)
    with gate.background(last=True, quiet_s=5.0):
        pass  # no live pass ever ran: the model is quiet
    with gate.background():  # speech translation asks for no quiet
        pass

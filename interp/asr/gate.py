"""One speech model, three kinds of work: live passes first, background work in the gaps.

Live recognition and the work that can wait (speech translation, the record pass)
share one loaded Whisper model, whose calls CTranslate2 runs one at a time in the
order they come.  Left to that order, a sentence's speech translation (a second
or more) would hold up every live pass queued behind it.  The gate orders them
instead: a live pass takes the model as soon as the call under way returns;
background work takes it only when no live pass waits, and in short pieces (an
encoder run, a decoder run), so a live pass never waits for more than one piece.
Background work has two ranks: speech translation, which delegates are waiting
for, goes before the record pass, which only the archive is.  The record pass can
also ask for quiet: no live pass for a while, which is a pause in speech, since
live passes come every step while someone speaks.  A piece of it started between two
steps would hold up the next one; when the machine is slower than speech the live
passes run back to back, and the record waits for the pauses instead.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable, Iterator


class ModelGate:
    """Who calls the model next: a waiting live pass, else the background."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed = threading.Condition()
        self._busy = False
        self._live_ended = float("-inf")
        """When the last live pass let go of the model (on ``clock``)."""
        self._live_waiting = 0
        self._urgent_waiting = 0
        """Background work of the first rank (speech translation) waiting."""
        self.background_pieces = 0
        """Background pieces run so far (for measurements)."""

    @contextlib.contextmanager
    def live(self) -> Iterator[None]:
        """Hold the model for one live pass; waits only for the piece under way."""
        with self._changed:
            self._live_waiting += 1
            try:
                while self._busy:
                    self._changed.wait()
            finally:
                self._live_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            self._live_ended = self._clock()
            self._release()

    @contextlib.contextmanager
    def background(self, last: bool = False, quiet_s: float = 0.0) -> Iterator[None]:
        """Hold the model for one short piece of background work, once no live pass waits.

        ``last``: work that also lets every other background piece go first (the record).
        ``quiet_s``: and only once no live pass has held the model for this long.
        """
        with self._changed:
            if not last:
                self._urgent_waiting += 1
            try:
                while True:
                    if self._busy or self._live_waiting or (last and self._urgent_waiting):
                        self._changed.wait()
                        continue
                    quiet_in = self._live_ended + quiet_s - self._clock()
                    if quiet_in <= 0:
                        break
                    self._changed.wait(quiet_in)
            finally:
                if not last:
                    self._urgent_waiting -= 1
            self._busy = True
            self.background_pieces += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._changed:
            self._busy = False
            self._changed.notify_all()


_gates: weakref.WeakKeyDictionary[object, ModelGate] = weakref.WeakKeyDictionary()
_gates_lock = threading.Lock()


def gate_of(model: object) -> ModelGate:
    """The one gate of a loaded model, whoever calls it (made on first use)."""
    with _gates_lock:
        gate = _gates.get(model)
        if gate is None:
            gate = _gates[model] = ModelGate()
        return gate

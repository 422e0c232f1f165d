"""The fan-out policy: what each listener is sent when it cannot keep up, and history.

Pure and I/O-free; the server's asyncio shell owns one :class:`Outbox` per connection
and one :class:`History` per session.

* A listener's outbox is bounded.  A new partial replaces the waiting partial of the
  same segment and language (it supersedes it anyway); when the outbox is full, the
  oldest waiting partial is dropped.  Finals, translations, session and error
  messages are never dropped: if the outbox is full of them, the listener is too far
  behind to follow live captions and :meth:`Outbox.offer` says to disconnect it (it
  can reconnect with ``since`` and lose nothing).
* :class:`History` keeps the recent messages that matter after the fact, so a
  newcomer gets the recent captions first and a reconnect with ``since=SEQ`` resumes
  where it left off.
"""

from __future__ import annotations

from collections import deque

from .wire import Message

_DROPPABLE = frozenset({"partial", "status"})


class Outbox:
    """The messages waiting for one listener."""

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._waiting: deque[Message] = deque()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def offer(self, message: Message) -> bool:
        """Queue ``message``; ``False`` means the listener must be disconnected."""
        if message.type in _DROPPABLE:
            self._drop_superseded(message)
        if len(self._waiting) >= self.limit and not self._drop_oldest_droppable():
            if message.type in _DROPPABLE:
                self.dropped += 1
                return True
            return False
        self._waiting.append(message)
        return True

    def preload(self, messages: list[Message]) -> None:
        """History a listener must see first; it is not subject to the limit."""
        self._waiting.extend(messages)

    def take(self) -> list[Message]:
        """Everything waiting, in order; the outbox is empty afterwards."""
        taken = list(self._waiting)
        self._waiting.clear()
        return taken

    def _drop_superseded(self, message: Message) -> None:
        for waiting in self._waiting:
            if (
                waiting.type == message.type
                and waiting.segment == message.segment
                and waiting.lang == message.lang
            ):
                self._waiting.remove(waiting)
                self.dropped += 1
                return

    def _drop_oldest_droppable(self) -> bool:
        for waiting in self._waiting:
            if waiting.type in _DROPPABLE:
                self._waiting.remove(waiting)
                self.dropped += 1
                return True
        return False


class History:
    """The recent messages of a session that a listener arriving late still needs."""

    def __init__(self, limit: int = 5000) -> None:
        self._limit = limit
        self._kept: deque[Message] = deque()
        self._forgotten = 0  # the seq of the newest message no longer kept

    def record(self, message: Message) -> None:
        if message.type in _DROPPABLE:
            return
        self._kept.append(message)
        if len(self._kept) > self._limit:
            self._forgotten = self._kept.popleft().seq

    def since(self, seq: int | None) -> tuple[list[Message], bool]:
        """The kept messages after ``seq`` (all of them for ``None``).

        The flag is ``False`` when messages after ``seq`` were already forgotten: the
        caller must say so (the archive has them), not pretend nothing was missed.
        """
        if seq is None:
            return list(self._kept), self._forgotten == 0
        return [m for m in self._kept if m.seq > seq], seq >= self._forgotten

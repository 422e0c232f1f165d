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

from .wire import Message, gap_message

_DROPPABLE = frozenset({"partial", "status"})


class Outbox:
    """The messages waiting for one listener."""

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._waiting: deque[Message] = deque()
        self._preloaded = 0
        """Preloaded history still waiting: it is not held against the limit."""
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def offer(self, message: Message) -> bool:
        """Queue ``message``; ``False`` means the listener must be disconnected."""
        if message.type in _DROPPABLE:
            self._drop_superseded(message)
        if len(self._waiting) - self._preloaded >= self.limit and not self._drop_oldest_droppable():
            if message.type in _DROPPABLE:
                self.dropped += 1
                return True
            return False
        self._waiting.append(message)
        return True

    def preload(self, messages: list[Message]) -> None:
        """History a listener must see first.

        It does not count toward the limit until it has been taken: a newcomer whose
        history filled the outbox would otherwise be disconnected by the next publish.
        """
        self._waiting.extend(messages)
        self._preloaded += len(messages)

    def take(self) -> list[Message]:
        """Everything waiting, in order; the outbox is empty afterwards."""
        taken = list(self._waiting)
        self._waiting.clear()
        self._preloaded = 0
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
    """The recent messages of one session that a listener arriving late still needs.

    One per session: ``seq`` restarts in every session, so a history that spanned two
    would resume a listener in the wrong one.  Each message is kept with the wall time
    it was published at (given by the caller), which dates a :func:`~interp.wire.gap_message`.
    """

    def __init__(self, session: str, limit: int = 5000, started_at: float | None = None) -> None:
        self.session = session
        self.started_at = started_at
        """Wall time the session's first message was published at."""
        self._limit = limit
        self._kept: deque[tuple[Message, float | None]] = deque()
        self._forgotten: tuple[Message, float | None] | None = None
        """The newest message no longer kept, with its wall time."""

    def record(self, message: Message, at: float | None = None) -> None:
        if message.type in _DROPPABLE:
            return
        if message.session != self.session:
            raise ValueError(f"message of session {message.session!r} in {self.session!r}")
        self._kept.append((message, at))
        if len(self._kept) > self._limit:
            self._forgotten = self._kept.popleft()

    def since(self, seq: int | None) -> tuple[list[Message], bool]:
        """The kept messages after ``seq`` (all of them for ``None``).

        The flag is ``False`` when messages after ``seq`` were already forgotten: the
        caller must say so (the archive has them), not pretend nothing was missed.
        """
        forgotten = 0 if self._forgotten is None else self._forgotten[0].seq
        if seq is None:
            return [m for m, _ in self._kept], forgotten == 0
        return [m for m, _ in self._kept if m.seq > seq], seq >= forgotten

    def missed(self, seq: int | None) -> Message | None:
        """The gap message for a listener resuming after ``seq``; ``None`` if nothing is missed."""
        if self._forgotten is None or (seq is not None and seq >= self._forgotten[0].seq):
            return None
        last, last_at = self._forgotten
        if not seq:
            # From the session's start: its audio starts at 0 and its wall time is known.
            start: float | None = 0.0
            from_wall = self.started_at
        else:
            start, from_wall = None, None  # the listener knows when it last heard
        return gap_message(
            self.session,
            from_seq=1 if seq is None else seq + 1,
            to_seq=last.seq,
            start=start,
            end=last.emitted_at if last.emitted_at is not None else last.end,
            from_wall=from_wall,
            to_wall=last_at,
        )

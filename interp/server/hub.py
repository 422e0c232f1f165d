"""The in-process bus: the pipeline publishes, every listener gets its own outbox.

Publishing never waits for a listener.  Each connection has a writer task that sends
what its :class:`~interp.fanout.Outbox` holds; a listener that stops reading fills its
outbox and is disconnected, while everyone else goes on (see :mod:`interp.fanout`).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..fanout import History, Outbox
from ..wire import Message, encode

SOURCE = "source"
"""The ``lang`` of a listener that follows the floor, in whatever language is spoken."""


@dataclass(eq=False)
class Listener:
    lang: str
    outbox: Outbox
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    too_slow: bool = False
    busy: bool = False
    """The slow path is sending: a new message must queue behind it."""
    write_now: Callable[[str], bool] | None = None
    """Writes a message straight to the socket when nothing is waiting before it and
    the socket is keeping up; says ``False`` when the message must queue instead."""

    def wants(self, message: Message) -> bool:
        if message.type in ("session", "status"):
            return True
        if message.type == "record":
            return False  # the archive's, never a caption
        if message.type == "error":
            return message.lang is None or message.lang == self.lang
        if message.type == "translation":
            return message.lang == self.lang
        return self.lang == SOURCE or message.lang == self.lang  # partial, final


class Hub:
    """Fan-out of one server's messages, with the history newcomers start from."""

    def __init__(self, outbox_limit: int = 256, history_limit: int = 5000) -> None:
        self.history: History | None = None
        """The current session's; a new session starts a new one (and forgets the last)."""
        self._history_limit = history_limit
        self.listeners: set[Listener] = set()
        self._outbox_limit = outbox_limit
        self.published = 0
        self.disconnected_slow = 0
        self.on_publish: list[Callable[[Message], None]] = []
        self.session: str | None = None
        self._encoded: OrderedDict[tuple[str, int], str] = OrderedDict()

    def publish(self, message: Message) -> None:
        now = time.time()
        self.session = message.session
        if self.history is None or self.history.session != message.session:
            self.history = History(message.session, self._history_limit, started_at=now)
        if message.type in ("final", "translation", "session"):
            # Wall time of publication: a client can measure how late it receives, and
            # a page can say when a session started or ended.
            message = replace(message, extra={**message.extra, "published_at": now})
        self.published += 1
        self.history.record(message, now)
        for callback in self.on_publish:
            callback(message)
        text: str | None = None
        for listener in self.listeners:
            if listener.too_slow or not listener.wants(message):
                continue
            if listener.write_now is not None and not listener.outbox:
                # The fast path: one write, no task switch; thousands of listeners
                # cost one encoding and a frame each.
                text = text if text is not None else self.encoded(message)
                if listener.write_now(text):
                    continue
            if not listener.outbox.offer(message):
                listener.too_slow = True
                self.disconnected_slow += 1
            listener.wake.set()

    def archive(self, message: Message) -> None:
        """A message for the archive alone (a record text), of this session or an earlier one.

        Not a caption: it goes to no listener and no history, so a record that comes
        after its session ended cannot disturb the session that followed.
        """
        for callback in self.on_publish:
            callback(message)

    def encoded(self, message: Message) -> str:
        """The JSON of a message, encoded once however many listeners send it."""
        if message.type == "gap":
            return encode(message)  # one listener's own, and it shares its seq with another
        key = (message.session, message.seq)
        text = self._encoded.get(key)
        if text is None:
            text = encode(message)
            self._encoded[key] = text
            if len(self._encoded) > 4096:
                self._encoded.popitem(last=False)
        return text

    def join(
        self, lang: str, since: int | None, session: str | None = None
    ) -> tuple[Listener, bool]:
        """A new listener, its outbox primed with the history it should see first.

        ``since`` counts in ``session``: a listener coming back after the server
        restarted, or after the session changed, starts from the current session's
        history.  When some of what it asked for is no longer kept, its outbox starts
        with a ``gap`` message saying what it missed, and ``complete`` is ``False``.
        """
        if since is not None and session is not None and session != self.session:
            since = 0  # it follows the room: all of the current session, from its start
        listener = Listener(lang, Outbox(self._outbox_limit))
        replay: list[Message] = []
        complete, gap = True, None
        if self.history is not None:
            replay, complete = self.history.since(since)
            # A newcomer missed nothing it was following: it is not told of a gap.
            gap = None if since is None else self.history.missed(since)
        wanted = [m for m in replay if listener.wants(m)]
        # A newcomer gets the recent captions, not a day of them.
        if since is None:
            wanted = wanted[-self._outbox_limit :]
        listener.outbox.preload(([gap] if gap is not None else []) + wanted)
        listener.wake.set()
        self.listeners.add(listener)
        return listener, complete

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

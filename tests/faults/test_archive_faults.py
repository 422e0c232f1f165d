"""A poison message for the archive writer: set aside, the room goes on, the rest archived."""

from __future__ import annotations

from pathlib import Path

from interp.archive.store import Archive
from interp.wire import Message

from ..fakes import ScriptBuilder
from .room import open_test_room


async def test_a_poison_message_is_set_aside_while_the_room_goes_on(tmp_path: Path) -> None:
    builder = ScriptBuilder().silence_ms(300)
    for sentence in ("The first point.", "The second point.", "The third point."):
        builder.sentence(sentence, pause_ms=1200)
    script = builder.build()
    async with open_test_room(tmp_path, script) as room:
        async with room.listen("source") as source:
            session = room.session.start()
            room.source.push(script.audio[: len(script.audio) // 3])
            first = await source.until(lambda m: m["type"] == "final", "the first final")
            # A message SQLite cannot bind (a list for a text), published as any other:
            # the writer gets it between real finals.
            poison = Message(
                "translation", session, first["seq"], first["segment"], "de",
                ["not", "a", "text"],  # type: ignore[arg-type]
            )  # fmt: skip
            room.room.hub.publish(poison)
            room.source.push(script.audio[len(script.audio) // 3 :])
            await source.until(lambda m: m.get("text") == "The third point.", "the third final")
            await room.session.stop()
            await source.drain()
    finals = {m["segment"]: m["text"] for m in source.received if m["type"] == "final"}
    assert list(finals.values()) == ["The first point.", "The second point.", "The third point."]
    assert room.archived_finals() == finals
    assert room.archived_state(session) == "ended"
    archive = Archive(room.archive_path, readonly=True)
    try:
        (letter,) = archive.dead_letters()
        assert archive.transcript(session, "de") == []
    finally:
        archive.close()
    assert letter["message"]["text"] == ["not", "a", "text"]
    assert letter["session"] == session and "ProgrammingError" in letter["error"]
    assert room.health.archive_dead_letters == 1
    assert room.health.archive_write_errors >= 1

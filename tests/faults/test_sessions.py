"""Sessions in a row on the real room: a resume stays in its session, nothing mixes.

``seq`` restarts in every session, so a history shared by two would replay the
morning's captions to a reader of the afternoon, or resume a tablet in the wrong
session.  Two sessions run one after the other on the same server; readers join
and resume with ``since`` in each way a tablet does.
"""

from __future__ import annotations

from pathlib import Path

from interp.archive.store import Archive

from ..fakes import ScriptBuilder
from .room import open_test_room

MORNING = ["The morning sitting opens.", "We adopt the agenda.", "The sitting is closed."]
AFTERNOON = ["The afternoon sitting opens.", "We turn to the declaration."]


async def test_two_sessions_in_a_row_never_mix(tmp_path: Path) -> None:
    builder = ScriptBuilder().silence_ms(300)
    for text in MORNING + AFTERNOON:
        builder.sentence(text, pause_ms=1200)
    script = builder.build()
    afternoon_from = script.words[sum(len(t.split()) for t in MORNING)].start - 1600
    async with open_test_room(tmp_path, script) as room:
        async with room.listen() as morning_tablet:
            morning = room.session.start()
            room.source.push(script.audio[:afternoon_from])
            await morning_tablet.until(
                lambda m: m["type"] == "final" and m["text"] == MORNING[-1], "the morning's end"
            )
            await room.session.stop()
            await morning_tablet.drain()
        morning_last = morning_tablet.received[-1]["seq"]

        afternoon = room.session.start()
        async with room.listen() as afternoon_tablet:
            room.source.push(script.audio[afternoon_from:])
            await afternoon_tablet.until(
                lambda m: m["type"] == "final" and m["text"] == AFTERNOON[-1], "the afternoon"
            )
        assert afternoon != morning
        afternoon_seqs = [m["seq"] for m in afternoon_tablet.received]
        since = afternoon_seqs[1]  # a seq that the morning had too

        # A newcomer, a tablet resuming in the afternoon, and one back from the morning.
        async with (
            room.listen() as newcomer,
            room.listen(resume=f"&since={since}&session={afternoon}") as resumed,
            room.listen(resume=f"&since={morning_last}&session={morning}") as back,
        ):
            for tablet in (newcomer, resumed, back):
                await tablet.until(
                    lambda m: m["type"] == "final" and m["text"] == AFTERNOON[-1],
                    "the afternoon's last final",
                )
        await room.session.stop()

    for tablet in (newcomer, resumed, back):
        assert {m["session"] for m in tablet.received} == {afternoon}
        texts = [m["text"] for m in tablet.received if m["type"] == "final"]
        assert not set(texts) & set(MORNING), "the morning's captions replayed"
        assert "gap" not in {m["type"] for m in tablet.received}
    assert [m["text"] for m in back.of_type("final")] == AFTERNOON  # from the session's start
    # Nothing before, nothing twice: the kept messages after ``since`` (partials and status
    # messages are not kept for replay, and whether one fell there depends on timing).
    kept = [m["seq"] for m in afternoon_tablet.received if m["type"] not in ("partial", "status")]
    replayed = [m["seq"] for m in resumed.received if m["type"] not in ("partial", "status")]
    after = [seq for seq in kept if seq > since]
    assert replayed[: len(after)] == after

    # Segment ids restart with the session too: the archive keeps each under its own.
    archive = Archive(room.archive_path, readonly=True)
    try:
        for session, texts in ((morning, MORNING), (afternoon, AFTERNOON)):
            assert [m.text for m in archive.transcript(session, None)] == texts
    finally:
        archive.close()
    assert room.archived_state(morning) == room.archived_state(afternoon) == "ended"

"""A stop ends the session gracefully: the open utterance is finalised, translated, archived."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from ..deadlines import scaled
from ..fakes import ScriptBuilder
from .room import Suffixer, open_test_room


def mid_utterance_script() -> tuple[object, int]:
    builder = ScriptBuilder().silence_ms(300).sentence("Good morning all.", pause_ms=1200)
    builder.sentence("We now turn to the last item", pause_ms=0)
    script = builder.build()
    # Everything up to the end of the last word, but not the silence that would close it.
    return script, script.words[-1].end


async def test_stop_in_mid_utterance_finalises_translates_and_archives(tmp_path: Path) -> None:
    script, cut = mid_utterance_script()
    async with open_test_room(
        tmp_path,
        script,
        [Suffixer()],
        targets=["es", "fr"],  # type: ignore[arg-type]
    ) as room:
        async with room.listen("source") as source, room.listen("es") as spanish:
            session = room.session.start()
            room.source.push(script.audio[:cut])  # type: ignore[attr-defined]
            first = await source.until(lambda m: m["type"] == "final", "the first final")
            await source.until(
                lambda m: m["type"] == "partial" and m["segment"] != first["segment"],
                "the open utterance heard",
            )
            await room.session.stop()
            await room.session.stop()  # a second stop is a no-op
            await source.drain()
            await spanish.drain()
    finals = [m for m in source.received if m["type"] == "final"]
    assert [f["text"] for f in finals] == ["Good morning all.", "We now turn to the last item"]
    for lang in ("es", "fr"):
        done = {
            m["segment"]
            for m in room.published_messages()
            if m["type"] == "translation" and m["lang"] == lang
        }
        assert done == {f["segment"] for f in finals}, lang
    assert [m["text"] for m in spanish.of_type("translation")][-1].endswith("last item [es]")
    assert room.archived_finals() == {f["segment"]: f["text"] for f in finals}
    assert room.archived_state(session) == "ended"


class HangingTranslator(Suffixer):
    """Translates the first final, then hangs until released."""

    def __init__(self) -> None:
        super().__init__(("es",))
        self.release = threading.Event()
        self.hung = threading.Event()

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        if any("second" in text for text in texts):
            self.hung.set()
            self.release.wait()
        return super().translate(texts, source, target)


async def test_a_hung_translation_engine_does_not_hold_the_stop(tmp_path: Path) -> None:
    script = (
        ScriptBuilder()
        .silence_ms(300)
        .sentence("The first point.", pause_ms=1200)
        .sentence("The second point.", pause_ms=1200)
        .sentence("The third point.", pause_ms=1200)
        .build()
    )
    translator = HangingTranslator()
    try:
        async with open_test_room(
            tmp_path, script, [translator], targets=["es"],
            overrides={"server.stop_timeout_s": 1.0},
        ) as room:  # fmt: skip
            async with room.listen("source") as source, room.listen("es") as spanish:
                room.session.start()
                room.source.push(script.audio)
                # The source captions keep flowing while the engine hangs.
                await source.until(lambda m: m.get("text") == "The third point.", "the third")
                assert await asyncio.to_thread(translator.hung.wait, scaled(10))
                await room.session.stop()
                await spanish.drain()
                await source.drain()
    finally:
        translator.release.set()
    finals = {m["segment"] for m in source.received if m["type"] == "final"}
    assert len(finals) == 3
    answered: dict[str, list[str]] = {}
    for message in spanish.received:
        if message["type"] in ("translation", "error") and message.get("segment"):
            answered.setdefault(message["segment"], []).append(message["type"])
    # Each final: exactly one translation or one error for the target.
    assert {s: len(kinds) for s, kinds in answered.items()} == dict.fromkeys(finals, 1)
    texts = {m["segment"]: m["text"] for m in source.received if m["type"] == "final"}
    second = next(segment for segment, text in texts.items() if "second" in text)
    assert answered[second] == ["error"]  # cut off by the stop's timeout
    errors = sum(kinds == ["error"] for kinds in answered.values())
    assert room.health.translations_failed == errors
    assert set(room.archived_finals()) == finals


async def test_stop_without_a_session_does_nothing(tmp_path: Path) -> None:
    script = ScriptBuilder().silence_ms(100).build()
    async with open_test_room(tmp_path, script) as room:
        await room.session.stop()
        await asyncio.sleep(0)
        assert not room.session.running


async def test_no_status_goes_out_for_a_stopped_session(tmp_path: Path) -> None:
    script = ScriptBuilder().silence_ms(300).sentence("Only this.", pause_ms=1200).build()
    every = 0.02
    async with open_test_room(tmp_path, script, overrides={"server.status_every_s": every}) as room:
        async with room.listen() as listener:
            first = room.session.start()
            room.source.push(script.audio)
            await listener.until(lambda m: m["type"] == "status", "a status while running")
            await room.session.stop()
            await listener.drain()
            await asyncio.sleep(every * 10)  # ten status periods with no session running
            second = room.session.start()
            await listener.until(
                lambda m: m["type"] == "status" and m["session"] == second, "the next status"
            )
    statuses = [m for m in room.published_messages() if m["type"] == "status"]
    assert all(m["session"] in (first, second) for m in statuses), statuses
    ended = next(i for i, m in enumerate(room.published_messages()) if m.get("state") == "ended")
    after = room.published_messages()[ended + 1 :]
    assert after[0]["type"] == "session" and after[0]["session"] == second

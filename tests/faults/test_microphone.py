"""A microphone unplugged mid-session and plugged back: the room goes on by itself.

The real room (``interp serve``'s wiring, the real archive) captures from
:class:`~interp.audio.capture.MicrophoneSource` over the fake sounddevice, whose
device plays the script's speech.  The interface comes back at another index, and
PortAudio lists it only after re-initialising.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from urllib.request import urlopen

import pytest

from interp import config
from interp.audio.capture import microphone
from interp.health import Health

from ..audio.fake_sounddevice import Device, FakeSoundDevice
from ..deadlines import scaled
from ..fakes import SAMPLE_RATE, ScriptBuilder
from ..server.test_server import until
from .room import open_test_room

INTERFACE = "USB Audio Interface (hw:2,0)"
OVERRIDES = {"audio.stall_s": 0.5, "audio.device_poll_s": 0.05, "audio.device_retry_s": 30.0}


def status(port: int) -> dict[str, object]:
    with urlopen(f"http://127.0.0.1:{port}/api/status", timeout=scaled(5)) as answer:
        return json.loads(answer.read())  # type: ignore[no-any-return]


async def test_an_unplugged_microphone_is_found_again_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = ScriptBuilder().silence_ms(300).sentence("Before the cable came out.", pause_ms=1500)
    script = builder.sentence("After it was plugged back.", pause_ms=1500).build()
    cut = script.words[5].start - SAMPLE_RATE // 2  # in the pause between the sentences
    sd = FakeSoundDevice(
        [Device("Built-in Microphone", 1), Device(INTERFACE, 2, audio=script.audio[:cut])],
        block_pause_s=0.01,
    )
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    audio_settings = config.load(environ={}, overrides=OVERRIDES).audio

    def make_source(health: Health) -> object:
        return microphone("mic:USB Audio#1", audio_settings, health)

    try:
        async with open_test_room(
            tmp_path,
            script,
            overrides=OVERRIDES,
            make_source=make_source,  # type: ignore[arg-type]
        ) as room:
            async with room.listen() as watcher, room.listen() as other:
                session = room.session.start()
                first = await watcher.until(
                    lambda m: m["type"] == "final" and m["text"] == "Before the cable came out.",
                    "the first sentence captioned",
                )
                sd.unplug(INTERFACE)
                await until(lambda: room.health.audio_outages == 1, "the outage noticed", 20.0)
                # The operator sees it: the status names the device that went away.
                health = (await asyncio.to_thread(status, room.room.port))["health"]
                assert INTERFACE in str(health["last_error"])  # type: ignore[index]
                assert health["audio_outages"] == 1  # type: ignore[index]

                interface = sd.devices[1]
                interface.audio, interface.cursor = script.audio[cut:], 0
                sd.plug(INTERFACE)  # back, as a new device first in the list
                later = await watcher.until(
                    lambda m: m["type"] == "final" and m["text"] == "After it was plugged back.",
                    "the second sentence captioned after the re-plug",
                )
                restarts = room.session.status()["restarts"]
                await room.session.stop()
                await watcher.drain()
                await other.drain()
    finally:
        for stream in sd.streams:
            stream.close()
    assert sd.initialisations >= 1, "PortAudio was never re-initialised"
    assert restarts == 0, "the source recovered by itself; the pipeline did not restart"
    assert not watcher.of_type("error")
    assert later["start"] > first["end"]
    finals = {m["segment"]: m["text"] for m in watcher.of_type("final")}
    assert list(finals.values()) == ["Before the cable came out.", "After it was plugged back."]
    assert finals == room.published_finals() == room.archived_finals()
    seqs = [m["seq"] for m in watcher.of_type("final")]
    assert [m["seq"] for m in other.of_type("final")] == seqs  # the other kept receiving
    assert room.archived_state(session) == "ended"

"""Microphone capture: a channel of a mixer, a device that vanishes and comes back.

sounddevice is replaced by :mod:`tests.audio.fake_sounddevice`, whose streams call
back from their own threads as PortAudio's do.  The waits are bounded by scaled
deadlines; nothing here asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest

from interp.audio import capture
from interp.audio.capture import MicrophoneSource, microphone, parse_mic_spec
from interp.audio.source import AudioChunk
from interp.config import SAMPLE_RATE, AudioSettings
from interp.errors import InputError
from interp.health import Health
from tests.audio.fake_sounddevice import Device, FakeSoundDevice
from tests.deadlines import scaled

FAST = {"stall_s": 0.3, "poll_s": 0.02}
"""A watchdog and a polling pace short enough for a test (the defaults are seconds)."""


@pytest.fixture
def sd(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSoundDevice]:
    fake = FakeSoundDevice(
        [Device("Built-in Microphone", 2), Device("Focusrite Scarlett 18i8 USB (hw:2,0)", 8)]
    )
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    yield fake
    for stream in fake.streams:
        stream.close()


async def take(chunks: AsyncIterator[AudioChunk], count: int) -> list[AudioChunk]:
    taken: list[AudioChunk] = []
    async with asyncio.timeout(scaled(10)):
        while len(taken) < count:
            taken.append(await anext(chunks))
    return taken


def channel_of(chunk: AudioChunk) -> int:
    return round(float(np.median(chunk.samples)))


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("mic", (None, None)),
        ("mic:Focusrite", ("Focusrite", None)),
        ("mic:Focusrite#3", ("Focusrite", 3)),
        ("mic:2#1", ("2", 1)),
        ("mic#2", (None, 2)),
        ("mic:Desk #1 mixer#4", ("Desk #1 mixer", 4)),
    ],
)
def test_a_spec_names_a_device_and_a_channel(spec: str, parsed: tuple[object, object]) -> None:
    assert parse_mic_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["mic:Focusrite#0", "mic:Focusrite#x", "mic#-1"])
def test_a_channel_must_be_a_number_from_one(spec: str) -> None:
    with pytest.raises(InputError, match="from 1"):
        parse_mic_spec(spec)


async def test_one_channel_of_a_mixer_is_captured(sd: FakeSoundDevice) -> None:
    source = microphone("mic:Focusrite#3", AudioSettings(chunk_ms=20))
    chunks = source.chunks()
    try:
        taken = await take(chunks, 5)
    finally:
        source.end()
        await chunks.aclose()
    assert {channel_of(chunk) for chunk in taken} == {3}
    assert all(len(chunk.samples) == 20 * SAMPLE_RATE // 1000 for chunk in taken)
    assert sd.streams[0].channels == 3  # channels 1..3 opened, the third kept


def test_a_channel_the_device_lacks_is_refused_naming_its_channels(sd: FakeSoundDevice) -> None:
    with pytest.raises(InputError, match=r"has 2 input channels.*#1 to #2"):
        microphone("mic:Built-in#3", AudioSettings())


async def test_portaudio_is_never_called_on_the_event_loop(sd: FakeSoundDevice) -> None:
    source = MicrophoneSource("Focusrite", 20, validate=False, **FAST)
    chunks = source.chunks()
    loop_thread = threading.get_ident()
    await take(chunks, 3)
    source.end()
    async for _ in chunks:
        pass
    assert sd.calling_threads and loop_thread not in sd.calling_threads
    assert all(stream.closed for stream in sd.streams)


async def test_a_replugged_device_is_found_again_by_name_at_a_new_index(
    sd: FakeSoundDevice,
) -> None:
    source = MicrophoneSource("Focusrite", 20, retry_s=scaled(10), **FAST)
    assert source.device == 1
    chunks = source.chunks()
    try:
        before = await take(chunks, 3)
        sd.unplug("Focusrite Scarlett 18i8 USB (hw:2,0)")
        waiting = asyncio.ensure_future(take(chunks, 3))
        # While it is away the source keeps re-listing; PortAudio's list is read again
        # only when it re-initialises, so the device is seen back only if it does.
        async with asyncio.timeout(scaled(10)):
            while sd.initialisations < 2:
                await asyncio.sleep(0.01)
        assert not waiting.done()
        sd.plug("Focusrite Scarlett 18i8 USB (hw:2,0)")
        after = await waiting
    finally:
        source.end()
        await chunks.aclose()
        assert source.device == 0  # the same interface, now first in the list
    assert len(sd.streams) >= 2 and all(s.device.name.startswith("Focusrite") for s in sd.streams)
    times = [chunk.start for chunk in before + after]
    assert times == sorted(times) and len(set(times)) == len(times)


async def test_a_silent_device_is_caught_by_the_watchdog_and_reopened(
    sd: FakeSoundDevice,
) -> None:
    health = Health()
    source = MicrophoneSource("Built-in", 20, retry_s=scaled(10), health=health, **FAST)
    chunks = source.chunks()
    try:
        await take(chunks, 2)
        sd.devices[0].silent = True
        waiting = asyncio.ensure_future(take(chunks, 1))
        async with asyncio.timeout(scaled(10)):
            while health.audio_stalls == 0:
                await asyncio.sleep(0.01)
        sd.devices[0].silent = False
        await waiting
    finally:
        source.end()
        await chunks.aclose()
    assert source.stalls >= 1 and health.audio_stalls == source.stalls
    assert health.last_error is not None and "Built-in Microphone" in health.last_error
    assert len(sd.streams) >= 2  # closed and opened again
    assert all(stream.closed for stream in sd.streams[:-1])


async def test_a_device_that_never_comes_back_ends_with_a_clear_error(
    sd: FakeSoundDevice,
) -> None:
    source = MicrophoneSource("Focusrite", 20, retry_s=0.5, **FAST)
    chunks = source.chunks()
    await take(chunks, 2)
    sd.unplug("Focusrite Scarlett 18i8 USB (hw:2,0)")
    with pytest.raises(InputError, match="Focusrite.*not"):
        async with asyncio.timeout(scaled(10)):
            async for _ in chunks:
                pass
    assert all(stream.closed for stream in sd.streams)


async def test_end_delivers_what_was_captured_and_stops(sd: FakeSoundDevice) -> None:
    source = MicrophoneSource(None, 20, **FAST)
    chunks = source.chunks()
    await take(chunks, 2)
    source.end()
    async with asyncio.timeout(scaled(10)):
        rest = [chunk async for chunk in chunks]
    assert len(rest) < 100  # it ended rather than running on
    assert all(stream.closed for stream in sd.streams)


def test_the_serve_command_accepts_a_channel(sd: FakeSoundDevice) -> None:
    source = capture.microphone("mic:Scarlett#8", AudioSettings(stall_s=7.0))
    assert (source.spec, source.channel, source.device) == ("Scarlett", 8, 1)

"""Live capture from a microphone or mixer input through sounddevice (PortAudio).

The PortAudio callback runs on its own thread and must never block: it copies the
block (one channel of it) and hands it to the event loop with
``call_soon_threadsafe``.  Every other PortAudio call (listing, opening, starting,
closing, re-initialising) runs in a worker thread under one lock, never on the loop.

A device is chosen by a spec: ``mic`` (the default input), ``mic:NAME`` (a part of
its name), ``mic:INDEX``, each optionally followed by ``#CHANNEL`` (1-based) to take
one channel of a multichannel mixer.  A device that stops (its stream finishes or
raises) or goes silent (no callback for ``stall_s``, the watchdog) is closed, PortAudio
is re-initialised, since it lists devices only then, and the device is found again
by its name, not by its old index, which a re-plugged USB interface rarely keeps.
If no audio comes back within ``retry_s`` a clear :class:`InputError` ends the source.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ..config import SAMPLE_RATE, AudioSettings
from ..errors import InputError
from ..health import Health
from .source import AudioChunk, SampleQueue

logger = logging.getLogger(__name__)

_portaudio_lock = threading.Lock()
"""PortAudio's initialise/terminate must not race stream calls: one caller at a time."""

_ALSA_ADDRESS = re.compile(r"\s*\(hw:\d+,\d+\)$")
"""ALSA's card number in a device name changes when the device is plugged in again."""


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio library itself is missing
        raise InputError(
            "audio capture needs the PortAudio library; install it with: "
            "sudo apt-get install libportaudio2"
        ) from exc
    except ImportError as exc:
        raise InputError(
            "audio capture needs sounddevice; run the README's set-up command (make setup)"
        ) from exc
    return sounddevice


def is_mic_spec(spec: str) -> bool:
    """Whether a ``--source`` value names a capture device rather than a file."""
    return spec == "mic" or spec.startswith(("mic:", "mic#"))


def parse_mic_spec(spec: str) -> tuple[str | None, int | None]:
    """``mic[:DEVICE][#CHANNEL]`` to ``(DEVICE or None, CHANNEL or None)``.

    Raises:
        InputError: the channel is not a positive whole number.
    """
    if not is_mic_spec(spec):
        raise InputError(f"{spec!r} is not a capture device: use mic, mic:NAME or mic:INDEX")
    rest = spec[len("mic") :]
    channel: int | None = None
    head, hash_sign, tail = rest.rpartition("#")
    if hash_sign:
        if not tail.isdigit() or int(tail) < 1:
            raise InputError(
                f"audio channel {tail!r} in {spec!r} must be a number from 1 (as in mic:NAME#3)"
            )
        rest, channel = head, int(tail)
    device = rest.removeprefix(":").strip()
    return device or None, channel


@dataclass(frozen=True, slots=True)
class InputDevice:
    index: int
    name: str
    channels: int
    """Input channels the device offers."""


def input_devices() -> list[InputDevice]:
    """Every input device PortAudio knows (as of its last initialisation)."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise InputError(f"cannot list audio devices: {exc}") from exc
    return [
        InputDevice(i, d["name"], int(d["max_input_channels"]))
        for i, d in enumerate(devices)
        if d["max_input_channels"] > 0
    ]


def _same_device(name: str, known: str) -> bool:
    return _ALSA_ADDRESS.sub("", name) == _ALSA_ADDRESS.sub("", known)


def _by_spec(
    devices: list[InputDevice], spec: str | None, known: InputDevice | None
) -> InputDevice:
    if not spec:
        default = _sounddevice().default.device[0]
        if default is not None and default >= 0:
            for device in devices:
                if device.index == default:
                    return device
        return devices[0]
    if spec.isdigit():
        for device in devices:
            if device.index == int(spec):
                return device
    matches = [d for d in devices if spec.lower() in d.name.lower()]
    if len(matches) > 1 and known is not None:
        # Two interfaces of one model: keep to the one that was in use.
        matches = [d for d in matches if _same_device(d.name, known.name)] or matches
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(f"{d.index}: {d.name}" for d in devices)
    if matches:
        raise InputError(f"audio input {spec!r} is ambiguous; choose one of: {names}")
    raise InputError(f"no audio input matches {spec!r}; available: {names}")


def resolve_device(
    spec: str | None, channel: int | None = None, known: InputDevice | None = None
) -> InputDevice:
    """The input device for ``spec`` in PortAudio's current list (blocking: call off the loop).

    Args:
        spec: None for the default input, a part of a device's name, or an index.
        channel: the 1-based channel wanted, checked against the device's channels.
        known: the device used before it vanished.  It is found again by its name:
            an index given at start-up, or the default, stays with that device.

    Raises:
        InputError: no such device, several match, or it lacks the channel.
    """
    devices = input_devices()
    if not devices:
        raise InputError("no microphone or audio input device found")
    found: InputDevice | None = None
    if known is not None and (not spec or spec.isdigit()):
        same = [d for d in devices if _same_device(d.name, known.name)]
        found = next((d for d in same if d.index == known.index), same[0] if same else None)
        if found is None and spec:
            raise InputError(f"audio input {known.name!r} is not connected")
    if found is None:
        found = _by_spec(devices, spec, known)
    if channel is not None and channel > found.channels:
        raise InputError(
            f"audio input {found.name!r} has {found.channels} input channel"
            f"{'s' if found.channels != 1 else ''}; there is no channel {channel} "
            f"(choose #1 to #{found.channels})"
        )
    return found


def find_device(spec: str | None) -> int | None:
    """Resolve ``mic`` / ``mic:NAME`` / ``mic:INDEX`` to a device index."""
    return resolve_device(spec).index


def _reinitialise(sd: Any) -> None:
    """Terminate and initialise PortAudio again, so that it lists the devices anew."""
    if getattr(sd, "_initialized", 1) > 0:
        try:
            sd._terminate()
        except sd.PortAudioError as exc:  # a half-dead host API: initialise anyway
            logger.debug("terminating PortAudio failed: %s", exc)
    sd._initialize()


def _close(stream: Any) -> None:
    with _portaudio_lock:
        # Stop before close: some PortAudio builds hang closing an active stream.
        stream.abort()
        stream.close()


class MicrophoneSource:
    """Captures 16 kHz mono float32 from an input device (or one channel of it).

    Args:
        device: the device part of the spec (None: the default input).
        chunk_ms: size of the blocks asked of PortAudio.
        queue_chunks: blocks held for recognition; past it the oldest are dropped.
        retry_s: how long the device may give no audio (vanished, stalled, not back)
            before the source ends with an :class:`InputError`.
        channel: the 1-based channel to take; None takes the first.
        stall_s: the watchdog: no callback for this long and the stream is reopened.
        poll_s: pause between tries to find a vanished device.
        health: counts stalls and dropped chunks where the status shows them.
        validate: resolve the device now, so a wrong spec fails at once (blocking,
            a quick look at PortAudio's list); else at the first open, with retries.
    """

    def __init__(
        self,
        device: str | None,
        chunk_ms: int = 100,
        queue_chunks: int = 600,
        retry_s: float = 30.0,
        *,
        channel: int | None = None,
        stall_s: float = 2.0,
        poll_s: float = 1.0,
        health: Health | None = None,
        validate: bool = True,
    ) -> None:
        if channel is not None and channel < 1:
            raise InputError(f"audio channels are numbered from 1, not {channel}")
        self.spec = device
        self.channel = channel
        self.dropped_chunks = 0
        self.stalls = 0
        self._blocksize = chunk_ms * SAMPLE_RATE // 1000
        self._queue_samples = max(1, queue_chunks) * self._blocksize
        self._retry_s = retry_s
        self._stall_s = stall_s
        self._poll_s = poll_s
        self._health = health
        self._ending = asyncio.Event()
        self._queue: SampleQueue | None = None
        self._known: InputDevice | None = resolve_device(device, channel) if validate else None

    @property
    def device(self) -> int | None:
        """Index of the device in use (None before it is first found)."""
        return None if self._known is None else self._known.index

    def _describe(self) -> str:
        name = self._known.name if self._known else (self.spec or "default input")
        return f"{name!r}" + (f" channel {self.channel}" if self.channel else "")

    def _dropped(self, count: int) -> None:
        self.dropped_chunks += count
        if self._health is not None:
            self._health.count("audio_dropped_chunks", count)

    def end(self) -> None:
        """Stop capturing: the audio already captured is delivered, then the chunks end."""
        self._ending.set()
        if self._queue is not None:
            self._queue.end()

    def _open(self, loop: asyncio.AbstractEventLoop, reinitialise: bool) -> tuple[Any, SampleQueue]:
        """Find the device and start a stream on it (blocking: runs in a worker thread)."""
        sd = _sounddevice()
        # A queue per stream: a late callback of a closed stream cannot end the next.
        queue = SampleQueue(self._queue_samples, self._dropped)
        column = (self.channel or 1) - 1

        def hand_over(method: Any, *args: Any) -> None:
            try:
                loop.call_soon_threadsafe(method, *args)
            except RuntimeError:  # the loop has closed: nobody is listening any more
                pass

        def callback(indata: Any, frames: int, time: Any, status: Any) -> None:
            hand_over(queue.put, indata[:, column].copy())

        def finished() -> None:
            hand_over(queue.end)

        with _portaudio_lock:
            if reinitialise:
                _reinitialise(sd)
            device = resolve_device(self.spec, self.channel, self._known)
            stream = sd.InputStream(
                device=device.index,
                channels=column + 1,
                samplerate=SAMPLE_RATE,
                dtype="float32",
                blocksize=self._blocksize,
                callback=callback,
                finished_callback=finished,
            )
            try:
                stream.start()
            except BaseException:
                stream.close()
                raise
        if self._known is not None and device.index != self._known.index:
            logger.info("audio input %r is now device %d", device.name, device.index)
        self._known = device
        return stream, queue

    async def _reopen(
        self, loop: asyncio.AbstractEventLoop, reinitialise: bool, deadline: float
    ) -> tuple[Any, SampleQueue] | None:
        """A started stream, trying until ``deadline``; None if :meth:`end` came first."""
        sd = _sounddevice()
        while not self._ending.is_set():
            try:
                return await asyncio.to_thread(self._open, loop, reinitialise)
            except (sd.PortAudioError, InputError) as exc:
                if loop.time() >= deadline:
                    raise InputError(
                        f"audio input {self._describe()} is not available: {exc}"
                    ) from exc
                logger.debug("audio input %s not back yet: %s", self._describe(), exc)
            reinitialise = True  # the device list is only refreshed by initialising
            try:
                await asyncio.wait_for(self._ending.wait(), self._poll_s)
            except TimeoutError:
                pass
        return None

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        sent = 0
        outage_since: float | None = None  # when audio last stopped coming, if it has
        reinitialise = False
        while True:
            deadline = (loop.time() if outage_since is None else outage_since) + self._retry_s
            opened = await self._reopen(loop, reinitialise, deadline)
            if opened is None:
                return
            stream, self._queue = opened
            if self._ending.is_set():
                self._queue.end()
            try:
                while True:
                    try:
                        block = await asyncio.wait_for(self._queue.get(), self._stall_s)
                    except TimeoutError:
                        reason = f"sent no audio for {self._stall_s:g} s"
                        self.stalls += 1
                        if self._health is not None:
                            self._health.count(
                                "audio_stalls", error=f"audio input {self._describe()} {reason}"
                            )
                        break
                    if block is None:
                        reason = "stopped"
                        break
                    if outage_since is not None:
                        logger.info(
                            "audio input %s is back after %.1f s",
                            self._describe(),
                            loop.time() - outage_since,
                        )
                        outage_since = None
                    yield AudioChunk(block, sent / SAMPLE_RATE)
                    sent += len(block)
            finally:
                self._queue = None
                await asyncio.to_thread(_close, stream)
            if self._ending.is_set():
                return
            if outage_since is None:  # once per outage, not per try
                outage_since = loop.time()
                lost = (
                    f"audio input {self._describe()} {reason}; re-listing devices and "
                    f"waiting up to {self._retry_s:g} s for it"
                )
                logger.warning("%s", lost)
                if self._health is not None:
                    self._health.count("audio_outages", error=lost)
            elif loop.time() >= outage_since + self._retry_s:
                raise InputError(
                    f"audio input {self._describe()} {reason} and gave no audio for "
                    f"{self._retry_s:g} s"
                )
            reinitialise = True


def microphone(
    spec: str, settings: AudioSettings, health: Health | None = None, *, validate: bool = True
) -> MicrophoneSource:
    """The source a ``--source mic[:DEVICE][#CHANNEL]`` names, with the audio settings."""
    device, channel = parse_mic_spec(spec)
    return MicrophoneSource(
        device,
        settings.chunk_ms,
        settings.queue_chunks,
        settings.device_retry_s,
        channel=channel,
        stall_s=settings.stall_s,
        poll_s=settings.device_poll_s,
        health=health,
        validate=validate,
    )

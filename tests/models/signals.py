"""Synthetic non-speech signals: what a live room sends between and during speeches."""

from __future__ import annotations

import numpy as np

RATE = 16_000


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def pink_noise(seconds: float, rms: float = 0.1, seed: int = 1) -> np.ndarray:
    """1/f noise, shaped in the frequency domain."""
    n = int(seconds * RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n)
    return (noise / np.sqrt(np.mean(noise**2)) * rms).astype(np.float32)


def tone(seconds: float, hz: float = 440.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def applause(seconds: float, claps_per_s: float = 40.0, seed: int = 2) -> np.ndarray:
    """Many hands clapping: short, decaying bursts of noise at random times."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    out = np.zeros(n, dtype=np.float32)
    burst_len = int(0.012 * RATE)
    envelope = np.exp(-np.arange(burst_len) / (0.002 * RATE)).astype(np.float32)
    for start in rng.integers(0, n - burst_len, int(seconds * claps_per_s)):
        burst = rng.standard_normal(burst_len).astype(np.float32) * envelope
        out[start : start + burst_len] += burst * rng.uniform(0.05, 0.4)
    return np.clip(out, -1, 1)


def music(seconds: float, bpm: float = 100.0, seed: int = 3) -> np.ndarray:
    """A chord progression of harmonic tones with struck-note envelopes."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    beat = 60.0 / bpm
    out = np.zeros_like(t)
    roots = [220.0, 174.6, 261.6, 196.0]
    for index, start in enumerate(np.arange(0.0, seconds, beat)):
        root = roots[(index // 4) % len(roots)]
        mask = (t >= start) & (t < start + 2 * beat)
        local = t[mask] - start
        envelope = np.exp(-local * 2.5)
        for ratio in (1.0, 1.25, 1.5, 2.0):
            for harmonic in (1, 2, 3):
                out[mask] += (
                    envelope * np.sin(2 * np.pi * root * ratio * harmonic * local) / (4 * harmonic)
                )
    out += 0.005 * rng.standard_normal(len(t))
    return (0.3 * out / np.abs(out).max()).astype(np.float32)

"""How something was said: loudness, pitch, voicing, rate and pauses, as pure numpy functions.

Pitch is tracked with YIN (de Cheveigné & Kawahara, 2002): the cumulative-mean-normalised difference
function of each frame, the first dip below an absolute threshold, refined by parabolic interpolation.
Frames are 10 ms apart; every statistic is taken over the frames inside the VAD's speech regions.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from omni_emotion.errors import ConfigError
from omni_emotion.types import Prosody, Word

__all__ = ["ProsodyConfig", "dc_block", "describe", "frame_rms_db", "measure_prosody", "yin"]

HOP_S = 0.010  # analysis hop (s)
RMS_WINDOW_S = 0.025  # loudness window (s)
SILENCE_DB = -100.0  # floor for log of zero energy (dBFS)
SILENT_ENERGY = 1e-10  # mean square below which a frame is silence (-100 dBFS)
VOICED_GATE_DB = 40.0  # voiced frames must be within this of the loud end (95th percentile) of speech
# Up to this many samples (20 s at 16 kHz, about 0.13 s in Python on 2 CPU cores) the DC blocker runs as a
# plain loop, which saves the 0.8 s import of scipy.signal on a short clip's cold start; longer audio uses it.
DC_BLOCK_LOOP_SAMPLES = 320_000
MAX_CONTOUR_POINTS = 400  # bound on Prosody.contour length, whatever the clip duration
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class ProsodyConfig:
    """Pitch-tracker settings and the thresholds of the descriptive sentence.

    fmin_hz/fmax_hz:  pitch search range;  yin_threshold: first CMNDF dip below this is the period;
    voicing_threshold: frames whose best CMNDF value is above this are unvoiced;
    min_pause_s: shorter silences are not pauses. The word thresholds (loud_db, high_hz, ...) only
    choose adjectives for ``describe``; the numbers themselves are always reported.
    """

    fmin_hz: float = 60.0
    fmax_hz: float = 500.0
    yin_threshold: float = 0.15
    voicing_threshold: float = 0.3
    min_pause_s: float = 0.25
    loud_db: float = -18.0
    quiet_db: float = -35.0
    high_hz: float = 220.0
    low_hz: float = 120.0
    rising_st_per_s: float = 1.5
    wide_range_st: float = 10.0
    narrow_range_st: float = 4.0
    fast_words_per_s: float = 3.3
    slow_words_per_s: float = 1.8
    fast_syllables_per_s: float = 5.5
    slow_syllables_per_s: float = 3.0
    unsteady_jitter: float = 0.08

    def __post_init__(self) -> None:
        if not 0 < self.fmin_hz < self.fmax_hz:
            raise ConfigError(f"Need 0 < fmin_hz < fmax_hz, got {self.fmin_hz} and {self.fmax_hz}.")
        if not 0 < self.yin_threshold <= self.voicing_threshold < 1:
            raise ConfigError("Need 0 < yin_threshold <= voicing_threshold < 1.")
        if self.min_pause_s < 0:
            raise ConfigError(f"min_pause_s must be >= 0, got {self.min_pause_s}.")


def _frames(audio: np.ndarray, length: int, hop: int) -> np.ndarray:
    """(F, length) read-only view of ``audio`` zero-padded at the end; frame i starts at i * hop."""
    n = max(1, -(-audio.size // hop))
    padded = np.zeros((n - 1) * hop + length, np.float32)
    padded[: audio.size] = audio
    return np.lib.stride_tricks.sliding_window_view(padded, length)[::hop]


def frame_rms_db(audio: np.ndarray, sample_rate: int, hop_s: float = HOP_S) -> np.ndarray:
    """RMS level in dBFS of a 25 ms window centred every ``hop_s``: (ceil(S / hop),) float32."""
    hop, win = max(1, round(hop_s * sample_rate)), max(1, round(RMS_WINDOW_S * sample_rate))
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size == 0:
        return np.zeros(0, np.float32)
    centred = np.concatenate([np.zeros(win // 2, np.float32), audio])
    energy = np.empty(-(-audio.size // hop), np.float64)
    for a in range(0, energy.size, 4096):  # blocks bound memory on long audio
        f = _frames(centred[a * hop : (a + 4096) * hop + win], win, hop)[: energy.size - a]
        energy[a : a + len(f)] = np.mean(np.square(f, dtype=np.float64), axis=1)
    return np.maximum(10.0 * np.log10(np.maximum(energy, 1e-20)), SILENCE_DB).astype(np.float32)


def dc_block(audio: np.ndarray, pole: float) -> np.ndarray:
    """(S,) float64 ``audio`` through the DC blocker y[n] = x[n] - x[n-1] + pole * y[n-1]: the same bits as
    ``scipy.signal.lfilter([1, -1], [1, -pole], audio)`` (its transposed direct form, step by step)."""
    if audio.size > DC_BLOCK_LOOP_SAMPLES:
        from scipy.signal import lfilter

        return np.asarray(lfilter([1.0, -1.0], [1.0, -pole], audio))
    out = [0.0] * audio.size
    state = 0.0
    for n, x in enumerate(audio.tolist()):
        y = x * 1.0 + state
        state = x * -1.0 - y * -pole
        out[n] = y
    return np.array(out, dtype=np.float64)


def yin(
    audio: np.ndarray, sample_rate: int, config: ProsodyConfig = ProsodyConfig(), hop_s: float = HOP_S
) -> tuple[np.ndarray, np.ndarray]:
    """YIN pitch track of mono ``audio`` (S,).

    Returns (f0_hz, aperiodicity), both (ceil(S / hop),) float32 with frame i centred at i * hop_s;
    f0 is NaN where the frame is unvoiced (best normalised difference above ``voicing_threshold``).
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    hop = max(1, round(hop_s * sample_rate))
    n_out = -(-audio.size // hop) if audio.size else 0
    f0 = np.full(n_out, np.nan, np.float32)
    aper = np.ones(n_out, np.float32)
    tau_min = max(2, int(sample_rate / config.fmax_hz))
    tau_max = int(np.ceil(sample_rate / config.fmin_hz))
    window = tau_max  # integration window: one longest period
    if n_out == 0 or tau_min >= tau_max:
        return f0, aper
    length = window + tau_max + 1
    # A DC blocker (pole at ~13 Hz for 16 kHz) rather than per-frame mean removal: that would turn silence
    # into a constant, which YIN reads as perfectly periodic; the blocker keeps zeros at zero.
    pole = float(np.exp(-2.0 * np.pi * 13.0 / sample_rate))
    highpassed = dc_block(audio, pole).astype(np.float32)
    centred = np.concatenate([np.zeros(length // 2, np.float32), highpassed])
    nfft = 1 << int(np.ceil(np.log2(length + window)))
    block = 1024
    for a in range(0, n_out, block):
        frames = _frames(centred[a * hop : (a + block) * hop + length], length, hop)[: min(block, n_out - a)]
        # d(tau) = e0 + e(tau) - 2 r(tau), with r the cross-correlation of the first window with the frame.
        spec_full = np.fft.rfft(frames, nfft)
        spec_head = np.fft.rfft(frames[:, :window], nfft)
        r = np.fft.irfft(spec_full * np.conj(spec_head), nfft)[:, : tau_max + 1]
        csum = np.concatenate(
            [np.zeros((len(frames), 1)), np.cumsum(np.square(frames, dtype=np.float64), 1)], 1
        )
        taus = np.arange(tau_max + 1)
        e_tau = csum[:, taus + window] - csum[:, taus]
        d = np.maximum(e_tau[:, :1] + e_tau - 2.0 * r, 0.0)
        cum = np.cumsum(d[:, 1:], axis=1)
        cmndf = np.ones_like(d)
        cmndf[:, 1:] = d[:, 1:] * taus[1:] / np.maximum(cum, 1e-12)
        # d normalised by the energy of both windows: 0 for a repeating signal, 1 when the first window is
        # silent (onsets and digital silence, where the CMNDF alone reads as periodic).
        both = e_tau[:, :1] + e_tau
        norm = np.where(both > SILENT_ENERGY * window, d / np.maximum(both, 1e-30), 1.0)
        f0[a : a + len(frames)], aper[a : a + len(frames)] = _pick_period(
            cmndf, d, norm, tau_min, sample_rate, config
        )
    return f0, aper


def _pick_period(
    cmndf: np.ndarray, d: np.ndarray, norm: np.ndarray, tau_min: int, sample_rate: int, config: ProsodyConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: the minimum of the first CMNDF run below ``yin_threshold`` (else the global minimum).

    Aperiodicity is the larger of the CMNDF and the energy-normalised difference at that lag.
    """
    search = cmndf[:, tau_min:-1]
    idx = np.arange(search.shape[1])[None, :]
    below = search < config.yin_threshold
    first = np.argmax(below, axis=1)
    after = idx >= first[:, None]
    ended = after & ~below
    stop = np.where(ended.any(axis=1), np.argmax(ended, axis=1), search.shape[1])
    in_run = after & (idx < stop[:, None]) & below.any(axis=1)[:, None]
    best = np.where(
        in_run.any(axis=1), np.argmin(np.where(in_run, search, np.inf), axis=1), np.argmin(search, axis=1)
    )
    tau = best + tau_min
    rows = np.arange(len(tau))
    aper = np.maximum(cmndf[rows, tau], norm[rows, tau])
    # Parabolic interpolation of the raw difference function around the chosen lag.
    left, mid, right = d[rows, tau - 1], d[rows, tau], d[rows, tau + 1]
    denom = left - 2.0 * mid + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    period = tau + np.clip(shift, -1.0, 1.0)
    f0 = np.where(aper <= config.voicing_threshold, sample_rate / period, np.nan)
    return f0.astype(np.float32), aper.astype(np.float32)


def _in_regions(times: np.ndarray, regions: list[tuple[float, float]]) -> np.ndarray:
    mask = np.zeros(times.shape, bool)
    for start, end in regions:
        mask |= (times >= start) & (times < end)
    return mask


def _region_energy(audio: np.ndarray, sample_rate: int, regions: list[tuple[float, float]]) -> float:
    """Mean square of the samples inside the regions (0 when they hold none)."""
    total, count = 0.0, 0
    for start, end in regions:
        piece = audio[int(start * sample_rate) : int(np.ceil(end * sample_rate))]
        total += float(np.sum(np.square(piece, dtype=np.float64)))
        count += piece.size
    return total / count if count else 0.0


def _speech_rate(words: list[Word], speech_s: float, config: ProsodyConfig) -> tuple[float | None, str]:
    """Words per second, or syllables per second for CJK text (one character is one syllable)."""
    if not words or speech_s <= 0:
        return None, "words/s"
    text = "".join(w.word for w in words)
    cjk = len(_CJK.findall(text))
    if cjk >= len(words) // 2 and cjk:
        return cjk / speech_s, "syllables/s"
    return sum(1 for w in words if re.search(r"\w", w.word)) / speech_s, "words/s"


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of sorted (start, end) spans: overlapping or touching spans become one."""
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _pauses(
    regions: list[tuple[float, float]], words: list[Word], min_pause_s: float
) -> list[tuple[float, float]]:
    """Silences of at least ``min_pause_s`` between speech regions and between consecutive words."""
    gaps = [(a[1], b[0]) for a, b in itertools.pairwise(regions)]
    ordered = sorted(words, key=lambda w: w.start)
    gaps += [(a.end, b.start) for a, b in itertools.pairwise(ordered)]
    merged = _merge(sorted(g for g in gaps if g[1] - g[0] >= min_pause_s))
    return [(round(s, 3), round(e, 3)) for s, e in merged]


def measure_prosody(
    audio: np.ndarray,
    sample_rate: int,
    speech_regions: list[tuple[float, float]],
    words: list[Word] | tuple[Word, ...] = (),
    config: ProsodyConfig = ProsodyConfig(),
) -> Prosody:
    """Prosody of mono float ``audio`` (S,) at ``sample_rate`` Hz over ``speech_regions`` (seconds).

    ``words`` (with times in seconds) give the speaking rate and in-speech pauses. No regions or no audio
    give a Prosody with no measurements and the description "no speech".
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    duration = audio.size / sample_rate
    clamped = ((max(0.0, float(s)), min(duration, float(e))) for s, e in speech_regions)
    regions = _merge(sorted((s, e) for s, e in clamped if e > s))
    words = list(words)
    if audio.size == 0 or not regions:
        return Prosody(description="no speech")
    level = frame_rms_db(audio, sample_rate)
    f0, _ = yin(audio, sample_rate, config)
    times = np.arange(level.size) * HOP_S
    speech = _in_regions(times, regions)
    speech_s = sum(e - s for s, e in regions)
    rate, unit = _speech_rate(words, speech_s, config)
    result = Prosody(
        speech_rate=rate,
        speech_rate_unit=unit,
        pauses=_pauses(regions, words, config.min_pause_s),
        speech_regions=[(round(s, 3), round(e, 3)) for s, e in regions],
    )
    if speech.any():
        energy = _region_energy(audio, sample_rate, regions)
        result.loudness_db = round(max(10.0 * np.log10(max(energy, 1e-20)), SILENCE_DB), 2)
        active = level[speech]
        result.loudness_range_db = round(float(np.percentile(active, 95) - np.percentile(active, 10)), 2)
        # Periodic background hum far below the voice is not the speaker's pitch.
        voiced = speech & np.isfinite(f0) & (level >= np.percentile(active, 95) - VOICED_GATE_DB)
        result.voiced_ratio = round(float(voiced.sum() / speech.sum()), 3)
        if voiced.sum() >= 3:
            _pitch_stats(result, f0, times, voiced)
    stride = max(1, -(-level.size // MAX_CONTOUR_POINTS))
    result.contour = {
        "time_s": [round(float(t), 3) for t in times[::stride]],
        "f0_hz": [0.0 if not np.isfinite(v) else round(float(v), 1) for v in f0[::stride]],
        "loudness_db": [round(float(v), 1) for v in level[::stride]],
    }
    result.description = describe(result, config)
    return result


def _pitch_stats(result: Prosody, f0: np.ndarray, times: np.ndarray, voiced: np.ndarray) -> None:
    """Fill the f0_* fields from the voiced speech frames (robust 5th/95th percentiles as min/max)."""
    values = f0[voiced].astype(np.float64)
    result.f0_median_hz = round(float(np.median(values)), 1)
    result.f0_min_hz = round(float(np.percentile(values, 5)), 1)
    result.f0_max_hz = round(float(np.percentile(values, 95)), 1)
    semitones = 12.0 * np.log2(values / 100.0)
    t = times[voiced]
    if t[-1] - t[0] > 0.1:
        result.f0_slope_st_per_s = round(float(np.polyfit(t, semitones, 1)[0]), 2)
    # Jitter-like instability: mean relative F0 change between adjacent voiced 10 ms frames.
    pairs = voiced[:-1] & voiced[1:]
    if pairs.any():
        a, b = f0[:-1][pairs].astype(np.float64), f0[1:][pairs].astype(np.float64)
        result.f0_jitter = round(float(np.mean(np.abs(b - a) / ((a + b) / 2.0))), 4)


def describe(p: Prosody, config: ProsodyConfig = ProsodyConfig()) -> str:
    """A short factual sentence, e.g. "loud (-14 dBFS), high rising pitch (median 260 Hz, +2.1 st/s), ..."."""
    if not p.has_speech or p.loudness_db is None:
        return "no speech"
    level = (
        "loud"
        if p.loudness_db >= config.loud_db
        else "quiet"
        if p.loudness_db <= config.quiet_db
        else "moderate"
    )
    parts = [f"{level} ({p.loudness_db:.0f} dBFS)"]
    if p.f0_median_hz is not None:
        height = (
            "high"
            if p.f0_median_hz >= config.high_hz
            else "low"
            if p.f0_median_hz <= config.low_hz
            else "mid"
        )
        slope = p.f0_slope_st_per_s
        trend = ""
        if slope is not None and abs(slope) >= config.rising_st_per_s:
            trend = " rising" if slope > 0 else " falling"
        detail = f"median {p.f0_median_hz:.0f} Hz" + (f", {slope:+.1f} st/s" if slope is not None else "")
        parts.append(f"{height}{trend} pitch ({detail})")
        span = 12.0 * np.log2(p.f0_max_hz / p.f0_min_hz) if p.f0_min_hz and p.f0_max_hz else 0.0
        width = (
            "wide"
            if span >= config.wide_range_st
            else "narrow"
            if span <= config.narrow_range_st
            else "moderate"
        )
        parts.append(f"{width} pitch range ({span:.0f} st)")
        if p.f0_jitter is not None and p.f0_jitter >= config.unsteady_jitter:
            parts.append(f"unsteady voice ({100 * p.f0_jitter:.0f}% frame-to-frame pitch change)")
    else:
        parts.append("mostly unvoiced")
    if p.speech_rate is not None:
        fast, slow = (
            (config.fast_syllables_per_s, config.slow_syllables_per_s)
            if p.speech_rate_unit == "syllables/s"
            else (config.fast_words_per_s, config.slow_words_per_s)
        )
        pace = "fast" if p.speech_rate >= fast else "slow" if p.speech_rate <= slow else "moderate-pace"
        parts.append(f"{pace} speech ({p.speech_rate:.1f} {p.speech_rate_unit})")
    if p.pauses:
        parts.append(f"{len(p.pauses)} pause{'s' if len(p.pauses) > 1 else ''}")
    return ", ".join(parts)

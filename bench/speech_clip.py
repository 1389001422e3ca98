"""Make a benchmark clip: the first seconds of a face video with a sentence spoken by espeak-ng as its audio.

    .venv/bin/python bench/speech_clip.py OUT.mp4 [--video ../shared/testdata/media/WolfgangLanger_Pexels.mp4]
        [--voice cmn-latn-pinyin --text "wo3 jin1 tian1 ..."] [--seconds 4]

The default is Mandarin (Debian's espeak-ng speaks Chinese from tone-numbered pinyin) over a real face, the
case that needs language detection, transcription and translation: what `bench/analyze.py` then times.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_MEDIA
from omni_emotion.media import load_audio
from omni_emotion.types import SAMPLE_RATE

MANDARIN = "wo3 jin1 tian1 fei1 chang2 sheng1 qi4, yin1 wei4 ta1 men5 mei2 you3 gao4 su4 wo3."


def spoken(text: str, voice: str) -> np.ndarray:
    """espeak-ng speech as mono float32 at 16 kHz."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
        return load_audio(wav)


def write_clip(out: Path, video: Path, speech: np.ndarray, seconds: float) -> None:
    with av.open(str(video)) as src, av.open(str(out), "w") as dst:
        vin = src.streams.video[0]
        fps = Fraction(vin.average_rate or 25).limit_denominator(1000)
        vout = dst.add_stream("h264", rate=fps)
        vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        aout = dst.add_stream("aac", rate=SAMPLE_RATE)
        aout.layout = "mono"
        for frame in src.decode(vin):
            if frame.time is not None and frame.time >= seconds:
                break
            dst.mux(vout.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")))
        dst.mux(vout.encode(None))
        audio = np.zeros(int(seconds * SAMPLE_RATE), np.float32)
        audio[: min(audio.size, speech.size)] = speech[: audio.size]
        for start in range(0, audio.size, 1024):
            chunk = av.AudioFrame.from_ndarray(audio[None, start : start + 1024], format="flt", layout="mono")
            chunk.sample_rate = SAMPLE_RATE
            dst.mux(aout.encode(chunk))
        dst.mux(aout.encode(None))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--video", default=str(SHARED_MEDIA / "WolfgangLanger_Pexels.mp4"))
    parser.add_argument("--voice", default="cmn-latn-pinyin")
    parser.add_argument("--text", default=MANDARIN)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    speech = spoken(args.text, args.voice)
    write_clip(Path(args.out), Path(args.video), speech, args.seconds)
    print(
        f"{args.out}: {args.seconds:.1f} s of {args.video} with {speech.size / SAMPLE_RATE:.1f} s of speech"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

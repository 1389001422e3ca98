"""Decode throughput on the shared clips (or files given): frames/s for sampled and dense decoding, and
seconds of decode time per minute of audio. Prints figures; not a test.

    .venv/bin/python bench/decode.py [FILES...] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import SHARED_MEDIA, median_time

from omni_emotion.media import iter_frames, load_audio, load_clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = args.files or sorted(p for p in SHARED_MEDIA.glob("*") if p.suffix in {".mp4", ".mov"})
    if not files:
        raise SystemExit(f"no clips given and {SHARED_MEDIA} is absent")
    rows = []
    for path in files:
        clip = load_clip(path, num_frames=8)
        dense_count = sum(1 for _ in iter_frames(path, fps=clip.fps or 25.0, max_side=None))
        t_all = median_time(
            args.repeat, lambda: sum(1 for _ in iter_frames(path, fps=clip.fps or 25.0, max_side=None))
        )
        t_8 = median_time(args.repeat, lambda: load_clip(path, num_frames=8, audio=False))
        t_dense5 = median_time(args.repeat, lambda: sum(1 for _ in iter_frames(path, fps=5, max_side=640)))
        t_audio = median_time(args.repeat, lambda: load_audio(path))
        minutes = max(clip.audio_seconds, 1e-9) / 60
        row = {
            "file": path.name,
            "duration_s": round(clip.duration, 2),
            "size": clip.frame_size,
            "all_frames_rgb_fps": round(dense_count / t_all, 1),
            "sample8_s": round(t_8, 3),
            "dense5fps_640_s": round(t_dense5, 3),
            "audio_s_per_min": round(t_audio / minutes, 3) if clip.has_audio else None,
        }
        rows.append(row)
        print(
            f"{row['file']:<28} {row['duration_s']:>6.1f} s  {row['size']!s:<11} "
            f"all frames {row['all_frames_rgb_fps']:>6.1f} fps | 8 sampled {row['sample8_s']:.3f} s | "
            f"dense 5 fps@640 {row['dense5fps_640_s']:.3f} s | audio {row['audio_s_per_min']} s/min"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

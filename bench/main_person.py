"""What choosing the main person costs per clip and whom it chooses, on the shared clips. Prints figures.

For each clip: the faces are tracked once (offline detector, 5 frames/s); then the mouth measure that the
tracker now takes per detection (faces/mouth.py) and the selection (faces/selection.py) are timed on their
own over the same detections, beside the time of detection + tracking.

    .venv/bin/python bench/main_person.py [--fps 5] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from common import SHARED_MEDIA, median_time

from omni_emotion.faces import FaceAnalyzer
from omni_emotion.faces.detectors import YuFaceDetector
from omni_emotion.faces.mouth import MouthMeter
from omni_emotion.faces.selection import select_main
from omni_emotion.media import iter_frames, load_clip

CLIPS = [
    "multi_face.jpg",
    "single_face.mp4",
    "face_noface.mov",
    "noface_face.mov",
    "WolfgangLanger_Pexels.mp4",
]


def frames_of(name: str, fps: float) -> list[tuple[float, np.ndarray]]:
    if name.endswith(".jpg"):
        clip = load_clip(SHARED_MEDIA / name, num_frames=1)
        return list(zip(clip.timestamps.tolist(), clip.frames))
    return list(iter_frames(SHARED_MEDIA / name, fps=fps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not SHARED_MEDIA.exists():
        raise SystemExit(f"{SHARED_MEDIA} is absent: the shared clips are only on the project's machines")
    analyzer = FaceAnalyzer(YuFaceDetector())
    print(f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}; median of {args.repeat} runs")
    print(
        f"{'clip':28s} {'frames':>6s} {'dets':>5s} {'track ms':>9s} {'mouth ms':>9s} {'select ms':>9s}  main"
    )
    for name in CLIPS:
        frames = frames_of(name, args.fps)
        started = time.perf_counter()
        tracks = analyzer.track(iter(frames))
        track_ms = 1e3 * (time.perf_counter() - started)
        # the same detections again, for the mouth measure alone (as _TrackBuilder calls it)
        tracker, observations = analyzer.new_tracker(), []
        for t, frame in frames:
            found = tracker.update(t, analyzer.detect(frame))
            observations += [(track_id, t, frame, det) for track_id, det in found]

        def measure_mouths() -> None:
            meters: dict[int, MouthMeter] = {}
            for track_id, t, frame, det in observations:
                meter = meters.setdefault(track_id, MouthMeter())
                meter.update(t, frame, det.box, det.landmarks, det.attributes)

        mouth_ms = 1e3 * median_time(args.repeat, measure_mouths)
        speech = [(0.0, frames[-1][0] + 1.0)]  # as if someone spoke throughout: the costlier path
        select_ms = 1e3 * median_time(args.repeat, lambda: select_main(tracks, len(frames), speech))
        chosen = [
            f"#{tr.track_id} ({len(tr.timestamps)} dets, {tr.attributes['facing']:.2f} facing)"
            for tr in tracks
            if tr.main
        ]
        print(
            f"{name:28s} {len(frames):6d} {len(observations):5d} {track_ms:9.0f} {mouth_ms:9.1f} "
            f"{select_ms:9.2f}  {', '.join(chosen) or '-'} of {len(tracks)}"
        )


if __name__ == "__main__":
    main()

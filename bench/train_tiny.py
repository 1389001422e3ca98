"""Train the tiny random Omni-Emotion model on a synthetic task until it learns; prints figures, not a test.

Tasks: ``pitch`` (phase 1: the answer L/H is the pitch of a one-second tone; only the audio projector
trains) and ``colour`` (phase 2: the answer R/B is the colour of the face crop; only the face projector
trains). The step budget doubles (60, 120, 240, ...) until every sample's own answer is the most likely one.
The last line is JSON with ``loss_start``, ``loss_end``, ``steps``, ``samples_per_s`` (training throughput,
features already cached), ``accuracy``.

    .venv/bin/python bench/train_tiny.py [--task pitch|colour] [--device cpu|cuda] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import tempfile
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
from omni_emotion.model.presets import preset_config, tiny_tokenizer
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig
from omni_emotion.training.cache import FeatureCache
from omni_emotion.training.config import phase_config
from omni_emotion.training.data import ManifestDataset
from omni_emotion.training.manifest import Sample, Turn
from omni_emotion.training.trainer import Trainer
from omni_emotion.types import FaceTrack

SR = 16_000
INIT_STD = 0.3  # a frozen random decoder at std 0.02 has logits too flat for any projector to move


def write_tone(path: Path, hz: float) -> Path:
    pcm = (0.5 * np.sin(2 * np.pi * hz * np.arange(SR) / SR) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    return path


def write_square_video(path: Path, colour: tuple[int, int, int], frames: int = 8) -> Path:
    """64x64 grey frames at 8 fps with a coloured 32x32 centre square (the 'face')."""
    img = np.full((64, 64, 3), 128, np.uint8)
    img[16:48, 16:48] = colour
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 8)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def centre_face(clip, path):
    n = len(clip.frames)
    return FaceTrack(
        0,
        clip.timestamps,
        np.zeros((n, 4), np.float32),
        np.ones(n, np.float32),
        crops=clip.frames[:, 16:48, 16:48],
        crop_times=clip.timestamps,
        main=True,
    )


def make_task(task: str, folder: Path, n: int) -> tuple[int, list[Sample], tuple[str, str]]:
    samples = []
    for i in range(n):
        if task == "pitch":
            answer = "LH"[i % 2]
            path = write_tone(folder / f"t{i}.wav", (300 if answer == "L" else 2500) + 20 * i)
            samples.append(Sample(f"t{i}", (Turn("user", "pitch?"), Turn("assistant", answer)), audio=path))
        else:
            answer = "RB"[i % 2]
            path = write_square_video(folder / f"v{i}.mp4", (220, 30, 30) if answer == "R" else (30, 30, 220))
            samples.append(Sample(f"v{i}", (Turn("user", "colour?"), Turn("assistant", answer)), video=path))
    return (1 if task == "pitch" else 2), samples, (("L", "H") if task == "pitch" else ("R", "B"))


def accuracy(model, data: ManifestDataset, answers, device) -> float:
    model.eval()
    right = 0
    for s in data.samples:
        losses = []
        for a in answers:
            probe = Sample(s.id, (Turn("user", s.prompt), Turn("assistant", a)), video=s.video, audio=s.audio)
            batch = data.collate([ManifestDataset([probe], data.processor, data.cache)[0]])
            with torch.no_grad():
                losses.append(model(**{k: v.to(device) for k, v in batch.items()}).loss.item())
        right += answers[int(np.argmin(losses))] == s.answer
    return right / len(data.samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("pitch", "colour"), default="pitch")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--rounds", type=int, default=4, help="budgets tried: 60, 120, 240, 480 steps (stops once learned)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        phase, samples, answers = make_task(args.task, folder, args.samples)
        config = preset_config("tiny")
        config.initializer_range = config.text_config.initializer_range = INIT_STD
        processor = OmniEmotionProcessor(tiny_tokenizer(), ProcessorConfig.from_model_config(config))
        data = ManifestDataset(
            samples, processor, FeatureCache(processor, folder / "cache", face_fn=centre_face)
        )
        for i in range(len(data)):  # decode once, so the throughput below is training only
            data[i]
        for round_ in range(args.rounds):
            steps = 60 * 2**round_
            torch.manual_seed(0)
            model = OmniEmotionForConditionalGeneration(config)
            train = phase_config(
                phase,
                batch_size=8,
                micro_batch_size=4,
                epochs=steps * 8 / len(samples),
                learning_rate=1e-2,
                warmup_ratio=0.0,
                log_every=5,
                precision="fp32",
            )
            result = Trainer(
                model, data, data.collate, train, folder / f"out{round_}", device=device, progress=False
            ).train()
            acc = accuracy(model, data, answers, device)
            print(
                f"{args.task}: {result.steps} steps, loss {result.loss_start:.3f} -> {result.loss_end:.3f}, "
                f"accuracy {acc:.2f}, {result.samples_per_s:.1f} samples/s"
            )
            if acc == 1.0:
                break
    print(
        json.dumps(
            {
                "task": args.task,
                "phase": phase,
                "loss_start": round(result.loss_start, 4),
                "loss_end": round(result.loss_end, 4),
                "steps": result.steps,
                "samples_per_s": round(result.samples_per_s, 1),
                "accuracy": acc,
                "device": str(device),
                "cpu_threads": torch.get_num_threads(),
                "machine": platform.machine(),
            }
        )
    )


if __name__ == "__main__":
    main()

"""The colour toy task for phase 4, shared by its test and ``bench/train_rl_tiny.py``: red stills are
``mad``, blue ones ``sad``; a tiny model tuned to answer either at random must learn the colour from the
emotion-wheel reward alone.

The starting ("phase 3") model also learns to name each still's colour when asked ``colour?``. Without
that, nothing in it carries the colour to the answer: tuned only on answers that ignore the colour, it is
colour-blind in mechanism, not only in its answer. Its two answers then differ by 2e-4 in probability
between the colours, and even supervised tuning of the LLM on the true answers (lr 5e-3) does not separate
them in 30 steps. GRPO can only sharpen what the policy's answers already depend on, so it stalled on 3 of
5 seeds. A real phase-3 model perceives its input; RL re-weights what it does with it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from omni_emotion.evaluation import GROUPINGS, WheelTables
from omni_emotion.training.manifest import Sample, Turn

__all__ = [
    "COLOURS",
    "COLOUR_NAMES",
    "COLOUR_PROMPT",
    "PROMPT",
    "phase3_model",
    "toy_samples",
    "toy_tables",
    "write_colour_image",
]

COLOURS = {"mad": (220, 30, 30), "sad": (30, 30, 220)}
COLOUR_NAMES = {"mad": "red", "sad": "blue"}
PROMPT = "feeling?"
COLOUR_PROMPT = "colour?"


def toy_tables() -> WheelTables:
    """mad and sad in different groups under all 12 groupings (one letter apart: a short toy); calm a third."""
    return WheelTables({w: (w,) * len(GROUPINGS) for w in ("mad", "sad", "calm")})


def write_colour_image(path: Path, colour: tuple[int, int, int]) -> Path:
    """A 64x64 PNG of one colour (a still: one frame)."""
    img = np.empty((64, 64, 3), np.uint8)
    img[:] = colour
    with av.open(str(path), "w") as container:
        stream = container.add_stream("png", rate=1)
        stream.width = stream.height = 64
        stream.pix_fmt = "rgb24"
        for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def toy_samples(folder: Path, n: int = 8) -> list[Sample]:
    """n stills alternating red (mad) and blue (sad), the truth on each as OV labels."""
    out = []
    for i in range(n):
        label = "mad" if i % 2 == 0 else "sad"
        path = write_colour_image(folder / f"c{i}.png", COLOURS[label])
        out.append(
            Sample(f"c{i}", (Turn("user", PROMPT), Turn("assistant", label)), video=path, labels=(label,))
        )
    return out


def phase3_model(samples, processor, config, folder: Path, steps: int = 150, lr: float = 1e-2):
    """The tiny model tuned to answer mad or sad whatever the colour (each still seen with both answers) and
    to name the colour when asked ``colour?``: the RL starting point, whose answers are well formed and right
    half of the time, and which sees the colour."""
    import torch

    from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
    from omni_emotion.training.cache import FeatureCache
    from omni_emotion.training.config import phase_config
    from omni_emotion.training.data import ManifestDataset
    from omni_emotion.training.trainer import Trainer

    torch.manual_seed(0)
    model = OmniEmotionForConditionalGeneration(config)
    both = [
        Sample(f"{s.id}-{w}", (Turn("user", PROMPT), Turn("assistant", w)), video=s.video)
        for s in samples
        for w in COLOURS
    ]
    both += [
        Sample(
            f"{s.id}-colour",
            (Turn("user", COLOUR_PROMPT), Turn("assistant", COLOUR_NAMES[s.labels[0]])),
            video=s.video,
        )
        for s in samples
    ]
    data = ManifestDataset(both, processor, FeatureCache(processor, folder / "cache"), system=None)
    train = phase_config(
        3,
        batch_size=8,
        micro_batch_size=8,
        epochs=steps * 8 / len(both),
        learning_rate=lr,
        warmup_ratio=0.0,
        log_every=steps,
        precision="fp32",
        num_frames=processor.config.num_frames,
    )
    Trainer(model, data, data.collate, train, folder / "phase3", device="cpu", progress=False).train()
    return model

"""Dataset and collator: manifest samples -> cached clip features -> the processor's model inputs.

The processor builds the chat prompt and the labels (-100 on every prompt token; the answer and its
``<|im_end|>`` are learned) from the cached frames, crops and log-mel (its ``audio_features`` argument), so
training sees exactly the inputs inference builds. Every sample has ``num_frames`` frame slots (padding
masked), so videos, stills and audio-only samples share micro-batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from omni_emotion.model.layout import DEFAULT_SYSTEM_PROMPT
from omni_emotion.model.processor import IGNORE_INDEX, OmniEmotionProcessor
from omni_emotion.training.cache import FeatureCache
from omni_emotion.training.manifest import Sample, TrainingDataError

__all__ = ["ManifestDataset"]


class ManifestDataset(torch.utils.data.Dataset):
    """``dataset[i]`` -> dict of batch-1 tensors for sample i (input_ids, labels, pixel/face/mel inputs).

    ``collate`` is the processor's. ``max_length`` cuts answers that would run past it; a prompt (media
    placeholders included) longer than it is an error naming the sample. ``system``: the system turn, the
    one the engine prompts with by default (train and serve alike); None leaves it out.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        processor: OmniEmotionProcessor,
        cache: FeatureCache,
        *,
        max_length: int = 4096,
        system: str | None = DEFAULT_SYSTEM_PROMPT,
    ):
        if not samples:
            raise TrainingDataError("the training set holds no samples.")
        self.samples, self.processor, self.cache, self.max_length = (
            list(samples),
            processor,
            cache,
            max_length,
        )
        self.system = system

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        sample = self.samples[index]
        features = self.cache.load(sample)
        out = self.processor(
            features.clip(str(sample.video or sample.audio)),
            features.face_track(),
            sample.prompt,
            answer=sample.answer,
            system=self.system,
            audio_features=features.audio_features(self.processor.config.mel_frames),
        )
        return self._truncate(out, sample)

    def _truncate(self, out: dict[str, torch.Tensor], sample: Sample) -> dict[str, torch.Tensor]:
        length = out["input_ids"].shape[1]
        if length <= self.max_length:
            return out
        prompt = int((out["labels"][0] == IGNORE_INDEX).sum())
        if prompt >= self.max_length:
            where = f" (line {sample.line})" if sample.line else ""
            raise TrainingDataError(
                f"sample {sample.id!r}{where} needs {prompt} prompt tokens, more than max_length {self.max_length}."
            )
        for key in ("input_ids", "attention_mask", "labels"):
            out[key] = out[key][:, : self.max_length]
        return out

    def collate(self, items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        return self.processor.collate(items)

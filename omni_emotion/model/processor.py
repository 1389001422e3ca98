"""Turn a Clip + the main FaceTrack + a prompt into Omni-Emotion model inputs (and batches of them).

Frames: ``num_frames`` sampled uniformly, resized to the SigLIP size (bicubic), mean and std 0.5 -- what
LLaVA-OneVision's checkpoints ship in their video processor config (copied from SigLIP's; the CLIP values are
only transformers' class defaults). A clip with fewer frames (a still image, a short clip) is padded with
zero frames to ``num_frames`` and ``frame_mask`` marks the real ones, so every sample has the same visual
token count and any mix of videos, stills and audio-only clips batches together (zero-shot layout: the last
frame is repeated instead, and a clip without video has no video tokens). Faces: for each sampled
frame, the track's aligned crop nearest in time (within ``face_max_gap_s``), resized to 224, ImageNet
mean/std as FaceXFormer; frames without one are masked. Audio: Whisper log-mel (``n_mels`` bins, 25 ms
window, 10 ms hop) padded to the encoder's window; the token count follows the real duration. A log-mel
computed earlier (a training cache) is passed as ``audio_features=(mel, n_samples)``. Numpy/torch only
(transformers' image processors need torchvision, which has no CPU build here).

Zero-shot layout (``ProcessorConfig.zero_shot``, for a model whose face and audio projectors are untrained):
LLaVA-OneVision's own prompt, ``<video>*V`` without modality markers, no face crops and no audio.

``save_pretrained(folder)`` writes ``processor_config.json`` and the tokenizer; ``from_pretrained(folder)``
reads them back (deriving the settings from the model's ``config.json`` when the folder has no processor
config, as folders written before it existed).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer, PreTrainedTokenizerBase, WhisperFeatureExtractor

from omni_emotion.model.config import OmniEmotionConfig
from omni_emotion.model.encoders.audio import HOP_LENGTH, SAMPLE_RATE, audio_token_count
from omni_emotion.model.layout import DEFAULT_SYSTEM_PROMPT, chat_prompt, vision_token_count
from omni_emotion.types import Clip, FaceTrack

__all__ = [
    "IGNORE_INDEX",
    "PROCESSOR_CONFIG_FILE",
    "OmniEmotionProcessor",
    "ProcessorConfig",
    "sample_indices",
]

log = logging.getLogger(__name__)

IGNORE_INDEX = -100  # label value the loss skips
PROCESSOR_CONFIG_FILE = "processor_config.json"
# google/siglip-so400m-patch14-384's preprocessor config, which LLaVA-OneVision's conversion copied
SIGLIP_MEAN, SIGLIP_STD = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ProcessorConfig:
    """Everything the processor needs; ``from_model_config`` derives it from an OmniEmotionConfig."""

    num_frames: int = 8
    image_size: int = 384
    vision_tokens_per_frame: int = 196
    face_size: int = 224
    face_tokens_per_frame: int = 16
    fusion: str = "video_concat"
    use_face: bool = True
    use_audio: bool = True
    n_mels: int = 128
    mel_frames: int = 3000  # 2 * Whisper max_source_positions: 30 s
    audio_pool_stride: int = 3
    face_max_gap_s: float = 0.5
    # LLaVA-OneVision's own layout: general video tokens only (see the module docstring). Not derived by
    # ``from_model_config``: it follows the model's trained state when used (the omni engine sets it), while
    # training always builds the full layout
    zero_shot: bool = False

    def __post_init__(self) -> None:
        for name in (
            "num_frames",
            "image_size",
            "vision_tokens_per_frame",
            "face_size",
            "face_tokens_per_frame",
            "n_mels",
            "mel_frames",
            "audio_pool_stride",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.face_max_gap_s < 0:
            raise ValueError(f"face_max_gap_s must be >= 0, got {self.face_max_gap_s}")
        if (self.mel_frames * HOP_LENGTH) % SAMPLE_RATE:
            raise ValueError(
                f"mel_frames * {HOP_LENGTH} must be whole seconds at {SAMPLE_RATE} Hz, got {self.mel_frames}"
            )

    @classmethod
    def from_model_config(cls, config: OmniEmotionConfig) -> ProcessorConfig:
        return cls(
            num_frames=config.num_frames,
            image_size=config.vision_config.image_size,
            vision_tokens_per_frame=config.vision_grid**2,
            face_size=config.face_image_size,
            face_tokens_per_frame=config.face_tokens_per_frame,
            fusion=config.fusion,
            use_face=config.use_face,
            use_audio=config.use_audio,
            n_mels=config.audio_config.num_mel_bins,
            mel_frames=2 * config.audio_config.max_source_positions,
            audio_pool_stride=config.audio_pool_stride,
        )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ProcessorConfig:
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown processor setting {min(unknown)!r}")
        return cls(**values)

    @property
    def max_audio_samples(self) -> int:
        return self.mel_frames * HOP_LENGTH

    def vision_tokens(self, frames: int) -> int:
        return vision_token_count(
            self.fusion,
            frames,
            self.vision_tokens_per_frame,
            self.face_tokens_per_frame,
            self.use_face and not self.zero_shot,
        )

    def audio_tokens(self, num_samples: int) -> int:
        if not self.use_audio or self.zero_shot:
            return 0
        return audio_token_count(
            num_samples, max_source_positions=self.mel_frames // 2, pool_stride=self.audio_pool_stride
        )


def sample_indices(n: int, k: int) -> np.ndarray:
    """k indices spread uniformly over n items (all of them when n <= k)."""
    if n <= k:
        return np.arange(n)
    return np.linspace(0, n - 1, k).round().astype(int)


def _normalise(images: np.ndarray, size: int, mean, std) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, size, size) float32, bicubic resize, then (x/255 - mean) / std."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()
    if x.shape[-2:] != (size, size):
        x = torch.nn.functional.interpolate(
            x, size=(size, size), mode="bicubic", antialias=True, align_corners=False
        )
    x = (x / 255.0).clamp(0, 1)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


class OmniEmotionProcessor:
    """``__call__(clip, face, prompt, answer=None)`` -> dict of batch-1 tensors; ``collate`` pads a list of them.

    Output keys: input_ids / attention_mask (1, L), labels (1, L) with an answer; with video frames
    pixel_values_videos (1, F, 3, S, S) and frame_mask (1, F) bool (False on padding frames); with a face
    track face_pixel_values (1, F, 3, Sf, Sf) and face_mask (1, F); with audio input_features
    (1, n_mels, mel_frames), audio_token_lengths (1,) and audio_mask (1,). F is always ``num_frames``.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, config: ProcessorConfig):
        self.tokenizer = tokenizer
        self.config = config
        self.mel = WhisperFeatureExtractor(
            feature_size=config.n_mels,
            sampling_rate=SAMPLE_RATE,
            hop_length=HOP_LENGTH,
            chunk_length=config.max_audio_samples // SAMPLE_RATE,
            n_fft=400,
        )
        missing = [
            t
            for t in ("<video>", "<audio>", "<vi_start>", "<vi_end>", "<au_start>", "<au_end>")
            if t not in tokenizer.get_vocab()
        ]
        if missing:
            raise ValueError(
                f"the tokenizer lacks {', '.join(missing)}: assemble the model with `omni-emotion weights init`"
            )

    # -- persistence ---------------------------------------------------------------------------------------

    def save_pretrained(self, folder: str | os.PathLike) -> Path:
        """Write ``processor_config.json`` and the tokenizer into ``folder`` (beside the model's files)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / PROCESSOR_CONFIG_FILE).write_text(
            json.dumps(self.config.to_dict(), indent=2) + "\n", encoding="utf-8"
        )
        self.tokenizer.save_pretrained(folder)
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike) -> OmniEmotionProcessor:
        """The processor saved in ``folder``; without ``processor_config.json`` the settings come from the
        model's ``config.json`` there. Raises FileNotFoundError when the folder has neither."""
        folder = Path(folder)
        path = folder / PROCESSOR_CONFIG_FILE
        if path.is_file():
            config = ProcessorConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))
        elif (folder / "config.json").is_file():
            config = ProcessorConfig.from_model_config(OmniEmotionConfig.from_pretrained(folder))
        else:
            raise FileNotFoundError(f"{folder} has neither {PROCESSOR_CONFIG_FILE} nor config.json")
        return cls(AutoTokenizer.from_pretrained(folder), config)

    # -- media ---------------------------------------------------------------------------------------------

    def frames(self, clip: Clip) -> tuple[torch.Tensor | None, torch.Tensor | None, np.ndarray]:
        """(1, F, 3, S, S) pixel values, the (1, F) mask of frames to encode (both None without video) and the
        times in seconds of the clip's sampled frames. After the clip's last sampled frame the trained layout
        has zero frames, masked; the zero-shot layout repeats the last frame, unmasked, so LLaVA-OneVision sees
        a still or short clip as a video that holds still rather than as hundreds of zero tokens."""
        idx = sample_indices(len(clip.frames), self.config.num_frames)
        if not len(idx):
            return None, None, np.zeros(0)
        size, frames = self.config.image_size, self.config.num_frames
        pixels = torch.zeros(1, frames, 3, size, size)
        pixels[0, : len(idx)] = _normalise(clip.frames[idx], size, SIGLIP_MEAN, SIGLIP_STD)
        mask = torch.zeros(1, frames, dtype=torch.bool)
        mask[0, : len(idx)] = True
        if self.config.zero_shot:
            pixels[0, len(idx) :] = pixels[0, len(idx) - 1]
            mask[:] = True
        return pixels, mask, clip.timestamps[idx]

    def faces(
        self, track: FaceTrack | None, times: np.ndarray
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(1, F, 3, Sf, Sf) crops nearest each real frame's time (zero elsewhere) and the (1, F) mask of
        frames that have one."""
        if (
            not self.config.use_face
            or self.config.zero_shot
            or track is None
            or track.crops is None
            or not len(track.crops)
            or not len(times)
        ):
            return None, None
        crop_times = track.crop_seconds
        nearest = np.abs(crop_times[None, :] - times[:, None]).argmin(axis=1)
        near = np.abs(crop_times[nearest] - times) <= self.config.face_max_gap_s
        size, frames = self.config.face_size, self.config.num_frames
        pixels = torch.zeros(1, frames, 3, size, size)
        pixels[0, : len(times)] = _normalise(track.crops[nearest], size, IMAGENET_MEAN, IMAGENET_STD)
        mask = torch.zeros(1, frames, dtype=torch.bool)
        mask[0, : len(times)] = torch.from_numpy(near)
        return pixels, mask

    def log_mel(self, samples: np.ndarray) -> tuple[torch.Tensor, int]:
        """16 kHz mono float32 samples -> (1, n_mels, mel_frames) Whisper log-mel of the first
        ``max_audio_samples`` (padded with silence) and the number of samples it covers."""
        if samples.size > self.config.max_audio_samples:
            log.warning(
                "audio is %.1f s; the model hears the first %.0f s",
                samples.size / SAMPLE_RATE,
                self.config.max_audio_samples / SAMPLE_RATE,
            )
            samples = samples[: self.config.max_audio_samples]
        mel = self.mel(
            samples, sampling_rate=SAMPLE_RATE, return_tensors="pt", padding="max_length"
        ).input_features
        return mel, int(samples.size)

    def audio(self, clip: Clip) -> tuple[torch.Tensor | None, int]:
        """(1, n_mels, mel_frames) log-mel (None without audio) and the number of audio tokens."""
        if not self.config.use_audio or self.config.zero_shot:
            return None, 0
        if not clip.has_audio:
            return None, self.config.audio_tokens(int(clip.duration * SAMPLE_RATE))
        mel, samples = self.log_mel(clip.audio)
        return mel, self.config.audio_tokens(samples)

    def _given_audio(self, audio_features: tuple[torch.Tensor, int]) -> tuple[torch.Tensor | None, int]:
        """Check a precomputed ``(log-mel, samples)`` pair; returns it as ``audio`` does."""
        mel, samples = audio_features
        if not self.config.use_audio or self.config.zero_shot:
            return None, 0
        mel = mel if mel.ndim == 3 else mel[None]
        expected = (1, self.config.n_mels, self.config.mel_frames)
        if tuple(mel.shape) != expected:
            raise ValueError(f"audio_features log-mel must have shape {expected}, got {tuple(mel.shape)}")
        if not 1 <= samples <= self.config.max_audio_samples:
            raise ValueError(
                f"audio_features must cover 1 to {self.config.max_audio_samples} samples, got {samples}"
            )
        return mel.float(), self.config.audio_tokens(int(samples))

    # -- samples and batches -------------------------------------------------------------------------------

    def __call__(
        self,
        clip: Clip,
        face: FaceTrack | None,
        prompt: str,
        *,
        answer: str | None = None,
        system: str | None = DEFAULT_SYSTEM_PROMPT,
        audio_features: tuple[torch.Tensor, int] | None = None,
    ) -> dict[str, torch.Tensor]:
        """Model inputs for one sample. ``audio_features=(mel, n_samples)``: a log-mel already computed by
        ``log_mel`` ((n_mels, mel_frames) or (1, n_mels, mel_frames)) and the samples it covers; it replaces
        the clip's audio, and the result equals that of the clip carrying those samples. ``system`` is the
        system turn (LLaVA-OneVision's by default; None leaves it out)."""
        pixels, frame_mask, times = self.frames(clip)
        face_pixels, face_mask = self.faces(face, times)
        mel, n_audio = self.audio(clip) if audio_features is None else self._given_audio(audio_features)
        # zero-shot without video: no video tokens at all (LLaVA-OneVision's text-only turn), not zero features
        no_video = self.config.zero_shot and pixels is None
        text = chat_prompt(
            prompt,
            0 if no_video else self.config.vision_tokens(self.config.num_frames),
            n_audio,
            system=system,
            markers=not self.config.zero_shot,
        )
        ids = self.tokenizer(text, add_special_tokens=False).input_ids
        labels = [IGNORE_INDEX] * len(ids)
        if answer is not None:
            target = self.tokenizer(answer + "<|im_end|>", add_special_tokens=False).input_ids
            ids, labels = ids + target, labels + target
        out: dict[str, torch.Tensor] = {
            "input_ids": torch.tensor([ids]),
            "attention_mask": torch.ones(1, len(ids), dtype=torch.long),
        }
        if answer is not None:
            out["labels"] = torch.tensor([labels])
        if pixels is not None:
            out["pixel_values_videos"], out["frame_mask"] = pixels, frame_mask
        if face_pixels is not None:
            out["face_pixel_values"], out["face_mask"] = face_pixels, face_mask
        if mel is not None:
            out["input_features"] = mel
            out["audio_token_lengths"] = torch.tensor([n_audio])
            out["audio_mask"] = torch.ones(1, dtype=torch.bool)
        return out

    def collate(self, samples: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Right-pad token rows and stack modality tensors. Any mix of samples with and without video, faces
        or audio batches: a sample lacking one gets a zero tensor of its usual shape and a False mask."""
        if not samples:
            raise ValueError("collate needs at least one sample")
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        width = max(s["input_ids"].shape[1] for s in samples)

        def padded(key: str, value: int) -> torch.Tensor:
            rows = [s[key] if key in s else torch.full_like(s["input_ids"], value) for s in samples]
            return torch.cat([torch.nn.functional.pad(r, (0, width - r.shape[1]), value=value) for r in rows])

        def stacked(key: str, mask_key: str, size: int) -> None:
            shape = (1, self.config.num_frames, 3, size, size)
            for s in samples:
                if key in s and tuple(s[key].shape) != shape:
                    raise ValueError(f"{key} must have shape {shape}, got {tuple(s[key].shape)}")
            batch[key] = torch.cat([s.get(key, torch.zeros(shape)) for s in samples])
            # a tensor without its mask is all real frames; a missing tensor is all absent
            masks = [s.get(mask_key, torch.full((1, shape[1]), key in s, dtype=torch.bool)) for s in samples]
            batch[mask_key] = torch.cat(masks)

        batch = {"input_ids": padded("input_ids", pad), "attention_mask": padded("attention_mask", 0)}
        if any("labels" in s for s in samples):
            batch["labels"] = padded("labels", IGNORE_INDEX)
        if any("pixel_values_videos" in s for s in samples):
            stacked("pixel_values_videos", "frame_mask", self.config.image_size)
        if any("face_pixel_values" in s for s in samples):
            stacked("face_pixel_values", "face_mask", self.config.face_size)
        if any("input_features" in s for s in samples):
            mel_shape = (1, self.config.n_mels, self.config.mel_frames)
            batch["input_features"] = torch.cat(
                [s.get("input_features", torch.zeros(mel_shape)) for s in samples]
            )
            # a sample without audio still has its zero-feature placeholders: count them from its ids
            lengths = [
                int(s["audio_token_lengths"][0])
                if "audio_token_lengths" in s
                else int((s["input_ids"] == self.tokenizer.convert_tokens_to_ids("<audio>")).sum())
                for s in samples
            ]
            batch["audio_token_lengths"] = torch.tensor(lengths)
            batch["audio_mask"] = torch.tensor(["input_features" in s for s in samples])
        return batch

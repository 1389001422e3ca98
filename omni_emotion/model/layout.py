"""Token layout of the Omni-Emotion MLLM: pure functions for counts, fusion order, prompts and the merge.

The user turn carries the modalities as ``<vi_start> <video>*V <vi_end> <au_start> <audio>*A <au_end>``
inside the LLM's chat template (ChatML for Qwen2). V and A depend only on the config and the clip length;
an absent modality keeps its placeholders and gets zero features, so the sequence never changes shape.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

# LLaVA-OneVision was tuned with LLaVA-NeXT's ``qwen_1_5`` conversation template, whose system turn is this
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "chat_prompt",
    "fuse_visual",
    "merge_placeholders",
    "modality_block",
    "vision_token_count",
]


def vision_token_count(
    fusion: str, frames: int, general_per_frame: int, face_per_frame: int, use_face: bool
) -> int:
    """Number of ``<video>`` placeholders for ``frames`` frames (the +1 is the newline token)."""
    if not use_face:
        return frames * general_per_frame + 1
    if fusion == "cross_attention":
        return frames * face_per_frame + 1
    return frames * (general_per_frame + face_per_frame) + 1


def fuse_visual(
    general: torch.Tensor,
    newline: torch.Tensor,
    face: torch.Tensor | None,
    fusion: str,
    cross_attend: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Order the visual tokens of a batch of clips.

    general: (B, F, Pv, D); newline: (D,); face: (B, F, Pf, D) or None (face branch off) -> (B, N, D), with
    N = ``vision_token_count``. ``cross_attend(face (B*F, Pf, D), general (B*F, Pv, D)) -> (B*F, Pf, D)``
    is needed for ``cross_attention``.
    """
    batch, _, _, dim = general.shape
    end = newline.to(general.dtype).expand(batch, 1, dim)
    if face is None:
        return torch.cat([general.reshape(batch, -1, dim), end], dim=1)
    if fusion == "video_concat":
        return torch.cat([general.reshape(batch, -1, dim), end, face.reshape(batch, -1, dim)], dim=1)
    if fusion == "frame_concat":
        return torch.cat([torch.cat([general, face], dim=2).reshape(batch, -1, dim), end], dim=1)
    if fusion == "cross_attention":
        if cross_attend is None:
            raise ValueError("cross_attention fusion needs a cross_attend function")
        attended = cross_attend(face.flatten(0, 1), general.flatten(0, 1))
        return torch.cat([attended.reshape(batch, -1, dim), end], dim=1)
    raise ValueError(f"unknown fusion {fusion!r}: use video_concat, frame_concat or cross_attention")


def modality_block(
    vision_tokens: int, audio_tokens: int, *, video_token: str = "<video>", audio_token: str = "<audio>"
) -> str:
    """``<vi_start><video>*V<vi_end><au_start><audio>*A<au_end>``."""
    return f"<vi_start>{video_token * vision_tokens}<vi_end><au_start>{audio_token * audio_tokens}<au_end>"


def chat_prompt(
    user_text: str,
    vision_tokens: int,
    audio_tokens: int,
    *,
    system: str | None = DEFAULT_SYSTEM_PROMPT,
    markers: bool = True,
) -> str:
    """The ChatML turn LLaVA-OneVision (Qwen2) was tuned on: its system turn (None or "" leaves it out), then
    the user turn with the media block first, ending at the assistant's turn.

    ``markers=False`` is LLaVA-OneVision's own video layout (``<video>*V`` alone, no ``<vi_start>`` ... markers
    and no audio), used in zero-shot mode where the new modality tokens are untrained.
    """
    head = f"<|im_start|>system\n{system}<|im_end|>\n" if system else ""
    if markers:
        media = modality_block(vision_tokens, audio_tokens)
    elif audio_tokens:
        raise ValueError("the layout without modality markers carries no audio tokens")
    else:
        media = "<video>" * vision_tokens
    media = f"{media}\n" if media else ""  # no video in the layout without markers: a plain text turn
    return f"{head}<|im_start|>user\n{media}{user_text}<|im_end|>\n<|im_start|>assistant\n"


def merge_placeholders(
    inputs_embeds: torch.Tensor, input_ids: torch.Tensor, features: dict[str, tuple[int, torch.Tensor]]
) -> torch.Tensor:
    """Write each modality's features over its placeholder tokens, in order.

    inputs_embeds: (B, L, D); input_ids: (B, L); features: name -> (token id, (N, D) rows for all
    placeholders of the batch in reading order). Raises ValueError naming the modality and both counts when
    the number of placeholders differs from N.
    """
    out = inputs_embeds
    for name, (token_id, rows) in features.items():
        mask = input_ids == token_id
        count = int(mask.sum())
        if count != rows.shape[0]:
            raise ValueError(
                f"{name}: the prompt has {count} placeholder tokens but the encoder produced {rows.shape[0]} "
                f"features; build the prompt with the processor of this model"
            )
        rows = rows.to(out.device, out.dtype)
        out = out.masked_scatter(mask.unsqueeze(-1).to(out.device), rows)
    return out

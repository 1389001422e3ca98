"""all-MiniLM-L6-v2 sentence embeddings from its own files: ``tokenizers`` + ``safetensors`` + plain torch.

The text clues need one sentence embedded per clip. sentence-transformers does that through transformers,
and importing the two took 5-7 s of a 12 s cold start on 2 CPU cores (they pull in torch.distributed,
scikit-learn and pandas); this module imports in milliseconds once torch is loaded. It computes what
``SentenceTransformer(folder).encode(texts, normalize_embeddings=True)`` computes with the BERT of
transformers' sdpa attention, op for op, so the vectors are the same float32 bits (a test compares them
where sentence-transformers is installed):
- texts are sorted longest first (by characters) and run 32 at a time, each batch padded to its longest;
- BERT: embeddings (word + token type 0 + position) and LayerNorm, then per layer sdpa self-attention with
  a boolean padding mask (none when nothing is padded), the output projection and LayerNorm on the
  residual, a GELU feed-forward and LayerNorm on the residual;
- mean of the unpadded tokens, L2-normalised twice (the model's Normalize module, then ``encode``'s).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from omni_emotion.errors import ModelNotFoundError

__all__ = ["BertConfig", "SentenceEncoder"]

BATCH_SIZE = 32  # sentence-transformers' default: batches set the padding, so they set the bits too


@dataclass(frozen=True)
class BertConfig:
    """The fields of a BERT ``config.json`` that the encoder's forward pass uses."""

    hidden_size: int
    num_attention_heads: int
    num_hidden_layers: int
    layer_norm_eps: float
    max_position_embeddings: int
    pad_token_id: int = 0

    @classmethod
    def from_json(cls, path: Path) -> BertConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("model_type") != "bert" or raw.get("hidden_act") != "gelu":
            raise ModelNotFoundError(f"{path} is not a BERT with GELU activations.")
        return cls(
            hidden_size=raw["hidden_size"],
            num_attention_heads=raw["num_attention_heads"],
            num_hidden_layers=raw["num_hidden_layers"],
            layer_norm_eps=raw["layer_norm_eps"],
            max_position_embeddings=raw["max_position_embeddings"],
            pad_token_id=raw.get("pad_token_id", 0),
        )


class SentenceEncoder:
    """A sentence-transformers mean-pooling BERT folder (config.json, model.safetensors, tokenizer.json,
    sentence_bert_config.json) on ``device``."""

    def __init__(self, folder: str | Path, device: str = "cpu") -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        files = [folder / n for n in ("config.json", "model.safetensors", "tokenizer.json")]
        for path in files:
            if not path.is_file():
                raise ModelNotFoundError(f"{path} is missing: the sentence-embedding model is incomplete.")
        self.config = BertConfig.from_json(files[0])
        self.device = torch.device(device)
        self.weights = {k: v.to(self.device) for k, v in load_file(str(files[1])).items()}
        settings = folder / "sentence_bert_config.json"
        max_length = (
            json.loads(settings.read_text(encoding="utf-8"))["max_seq_length"] if settings.is_file() else 512
        )
        self.tokenizer = Tokenizer.from_file(str(files[2]))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(min(max_length, self.config.max_position_embeddings))

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N, hidden) float32 unit-norm embeddings of ``texts``, in their order."""
        order = np.argsort([-len(text) for text in texts])
        batches = []
        for start in range(0, len(texts), BATCH_SIZE):
            batches.append(self._embed([texts[i] for i in order[start : start + BATCH_SIZE]]))
        if not batches:
            return np.zeros((0, self.config.hidden_size), np.float32)
        sorted_vectors = torch.cat(batches)
        return sorted_vectors[torch.from_numpy(np.argsort(order))].numpy()

    @torch.inference_mode()
    def _embed(self, texts: list[str]) -> torch.Tensor:
        ids, mask = self._tokenize(texts)
        hidden = self._forward(ids, mask)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        total = (hidden * weights).sum(dim=1, dtype=torch.float32)
        count = torch.clamp(weights.sum(dim=1, dtype=torch.float32), min=1e-9)
        pooled = (total / count).to(hidden.dtype)
        return F.normalize(F.normalize(pooled, p=2, dim=-1), p=2, dim=1).cpu()

    def _tokenize(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T) token ids padded with the pad id, and the (B, T) int64 attention mask."""
        encodings = self.tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = torch.full((len(texts), length), self.config.pad_token_id, dtype=torch.int64)
        mask = torch.zeros((len(texts), length), dtype=torch.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = torch.tensor(encoding.ids, dtype=torch.int64)
            mask[row, : len(encoding.ids)] = 1
        return ids.to(self.device), mask.to(self.device)

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, hidden) last hidden states of BERT on ``ids`` with the padding ``mask``."""
        w, cfg = self.weights, self.config
        batch, length = ids.shape
        positions = torch.arange(length, device=ids.device)[None]
        hidden = F.embedding(ids, w["embeddings.word_embeddings.weight"], padding_idx=cfg.pad_token_id)
        hidden = hidden + F.embedding(torch.zeros_like(ids), w["embeddings.token_type_embeddings.weight"])
        hidden = hidden + F.embedding(positions, w["embeddings.position_embeddings.weight"])
        hidden = self._norm(hidden, "embeddings.LayerNorm")
        # boolean (B, 1, T, T) "may attend" mask; None when no token is padding (then sdpa needs none)
        attend = None if bool(mask.all()) else mask.bool()[:, None, None, :].expand(batch, 1, length, length)
        heads = cfg.num_attention_heads
        head_size = cfg.hidden_size // heads
        for i in range(cfg.num_hidden_layers):
            p = f"encoder.layer.{i}."
            split = (batch, length, -1, head_size)
            query = self._linear(hidden, p + "attention.self.query").view(split).transpose(1, 2)
            key = self._linear(hidden, p + "attention.self.key").view(split).transpose(1, 2)
            value = self._linear(hidden, p + "attention.self.value").view(split).transpose(1, 2)
            context = F.scaled_dot_product_attention(
                query, key, value, attn_mask=attend, dropout_p=0.0, scale=head_size**-0.5, is_causal=False
            )
            context = context.transpose(1, 2).contiguous().reshape(batch, length, -1).contiguous()
            attended = self._norm(
                self._linear(context, p + "attention.output.dense") + hidden, p + "attention.output.LayerNorm"
            )
            inner = F.gelu(self._linear(attended, p + "intermediate.dense"))
            hidden = self._norm(self._linear(inner, p + "output.dense") + attended, p + "output.LayerNorm")
        return hidden

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self.weights[name + ".weight"], self.weights[name + ".bias"])

    def _norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(
            x,
            (x.shape[-1],),
            self.weights[name + ".weight"],
            self.weights[name + ".bias"],
            self.config.layer_norm_eps,
        )

"""The three encoders: FaceXFormer checkpoint key mapping, face/audio shapes, audio token counts, pooling."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import SwinConfig, WhisperConfig

from omni_emotion.model.encoders.audio import AudioEncoder, audio_token_count
from omni_emotion.model.encoders.face import FaceEncoder, convert_facexformer_state_dict, facexformer_key_map
from omni_emotion.model.encoders.vision import pool_frame_features

SWIN = SwinConfig(
    image_size=32, patch_size=2, embed_dim=8, depths=[1, 1, 2, 1], num_heads=[1, 1, 2, 2], window_size=2
)


def facexformer_state_dict(config: SwinConfig, fusion_dim: int = 8) -> dict[str, torch.Tensor]:
    """A synthetic checkpoint with FaceXFormer's public key names (torchvision swin under backbone.0/1)."""
    g = torch.Generator().manual_seed(0)

    def rnd(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g)

    c, ws = config.embed_dim, config.window_size
    sd = {
        "backbone.0.0.0.weight": rnd(c, 3, config.patch_size, config.patch_size),
        "backbone.0.0.0.bias": rnd(c),
        "backbone.0.0.2.weight": rnd(c),
        "backbone.0.0.2.bias": rnd(c),
    }
    for stage, depth in enumerate(config.depths):
        dim, heads = c * 2**stage, config.num_heads[stage]
        for b in range(depth):
            p = f"backbone.0.{2 * stage + 1}.{b}"
            sd |= {
                f"{p}.norm1.weight": rnd(dim),
                f"{p}.norm1.bias": rnd(dim),
                f"{p}.attn.qkv.weight": rnd(3 * dim, dim),
                f"{p}.attn.qkv.bias": rnd(3 * dim),
                f"{p}.attn.proj.weight": rnd(dim, dim),
                f"{p}.attn.proj.bias": rnd(dim),
                f"{p}.attn.relative_position_bias_table": rnd((2 * ws - 1) ** 2, heads),
                f"{p}.attn.relative_position_index": torch.arange(ws**4),
                f"{p}.norm2.weight": rnd(dim),
                f"{p}.norm2.bias": rnd(dim),
                f"{p}.mlp.0.weight": rnd(4 * dim, dim),
                f"{p}.mlp.0.bias": rnd(4 * dim),
                f"{p}.mlp.3.weight": rnd(dim, 4 * dim),
                f"{p}.mlp.3.bias": rnd(dim),
            }
        if stage < len(config.depths) - 1:
            p = f"backbone.0.{2 * stage + 2}"
            sd |= {
                f"{p}.reduction.weight": rnd(2 * dim, 4 * dim),
                f"{p}.norm.weight": rnd(4 * dim),
                f"{p}.norm.bias": rnd(4 * dim),
            }
        sd |= {
            f"linear_c.{stage}.proj.weight": rnd(fusion_dim, dim),
            f"linear_c.{stage}.proj.bias": rnd(fusion_dim),
        }
    top = c * 2 ** (len(config.depths) - 1)
    sd |= {
        "backbone.1.weight": rnd(top),
        "backbone.1.bias": rnd(top),
        "linear_fuse.weight": rnd(fusion_dim, 4 * fusion_dim, 1, 1),
        # decoder and heads: not part of the encoder
        "face_decoder.landmarks_token.weight": rnd(1, 256),
        "pe_layer.positional_encoding_gaussian_matrix": rnd(2, 128),
    }
    return sd


def test_key_map_examples():
    assert facexformer_key_map("backbone.0.0.0.weight") == [
        "backbone.embeddings.patch_embeddings.projection.weight"
    ]
    assert facexformer_key_map("backbone.0.5.17.mlp.3.bias") == [
        "backbone.encoder.layers.2.blocks.17.mlp.fc2.bias"
    ]
    assert facexformer_key_map("backbone.0.6.reduction.weight") == [
        "backbone.encoder.layers.2.downsample.reduction.weight"
    ]
    assert facexformer_key_map("backbone.0.1.0.attn.qkv.weight") == [
        f"backbone.encoder.layers.0.blocks.0.attention.{x}_proj.weight" for x in "qkv"
    ]
    assert facexformer_key_map("backbone.0.7.1.attn.relative_position_bias_table") == [
        "backbone.encoder.layers.3.blocks.1.attention.relative_position_bias.relative_position_bias_table"
    ]
    assert facexformer_key_map("backbone.1.weight") == ["backbone.layernorm.weight"]
    assert facexformer_key_map("linear_c.3.proj.bias") == ["linear_c.3.bias"]
    assert facexformer_key_map("backbone.0.3.0.attn.relative_position_index") is None
    assert facexformer_key_map("face_decoder.transformer.layers.0.norm1.weight") is None


def test_converted_checkpoint_fills_every_encoder_weight():
    encoder = FaceEncoder(SWIN, 16, fusion_dim=8, tokens_per_frame=4)
    source = facexformer_state_dict(SWIN)
    converted = convert_facexformer_state_dict(source)
    missing, unexpected = encoder.load_state_dict(converted, strict=False)
    assert unexpected == []
    assert sorted(missing) == sorted(k for k in encoder.state_dict() if k.startswith("projector."))
    # the fused qkv is split into q, k, v rows in that order
    qkv = source["backbone.0.3.0.attn.qkv.weight"]
    attn = encoder.backbone.encoder.layers[1].blocks[0].attention
    torch.testing.assert_close(torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight]), qkv)
    torch.testing.assert_close(encoder.linear_fuse.weight, source["linear_fuse.weight"])


def test_face_encoder_shapes_and_deepest_first_fusion():
    encoder = FaceEncoder(SWIN, 16, fusion_dim=8, tokens_per_frame=4).eval()
    faces = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        fused = encoder.fused_map(faces)
        tokens = encoder(faces)
        # zeroing the deepest stage's MLP must change only the first input block of linear_fuse
        encoder.linear_fuse.weight[:, :8].zero_()
        without_deepest = encoder.fused_map(faces)
        encoder.linear_c[3].weight.normal_()
        assert torch.equal(encoder.fused_map(faces), without_deepest)
    assert fused.shape == (3, 8, 16, 16) and tokens.shape == (3, 4, 16)
    with pytest.raises(ValueError, match="square"):
        FaceEncoder(SWIN, 16, tokens_per_frame=6)


@given(st.integers(0, 40 * 16000))
def test_audio_token_count_formula(samples):
    n = audio_token_count(samples)
    expected = math.ceil(math.ceil(math.ceil(samples / 160) / 2) / 3)
    assert n == min(max(expected, 1), 500)


def test_audio_token_count_examples():
    assert audio_token_count(4 * 16000) == 67  # a 4 s clip: 67 tokens, not 500
    assert audio_token_count(10 * 16000) == 167
    assert audio_token_count(30 * 16000) == 500
    assert audio_token_count(0) == 1


def _whisper(max_positions: int = 30) -> WhisperConfig:
    return WhisperConfig(
        vocab_size=64,
        num_mel_bins=16,
        d_model=16,
        encoder_layers=1,
        encoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=32,
        max_source_positions=max_positions,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
    )


def test_audio_encoder_pools_by_three_and_needs_the_full_window():
    encoder = AudioEncoder(_whisper(30), 24).eval()
    with torch.no_grad():
        assert encoder(torch.randn(2, 16, 60)).shape == (2, 10, 24)
        with pytest.raises(ValueError, match="expects the mel input features to be of length 60"):
            encoder(torch.randn(1, 16, 40))  # transformers' WhisperEncoder refuses a shorter window


def test_pool_frame_features_matches_bilinear_halving():
    x = torch.arange(16.0).view(1, 16, 1)  # a 4x4 grid
    pooled = pool_frame_features(x, 4)
    assert pooled.shape == (1, 4, 1)
    assert pooled[0, :, 0].tolist() == [2.5, 4.5, 10.5, 12.5]  # 2x2 means for an exact 2x downsampling
    assert pool_frame_features(torch.randn(2, 27 * 27, 3), 27).shape == (2, 14 * 14, 3)
    with pytest.raises(ValueError, match="tokens per frame"):
        pool_frame_features(torch.randn(1, 15, 3), 4)


# ---- FaceXFormer model.pt as the authors save it -------------------------------------------------------


def _training_checkpoint(state: dict[str, torch.Tensor], *, ddp: bool = False) -> dict:
    """FaceXFormer's model.pt layout: insightface arcface_torch's training checkpoint, read by the authors'
    inference.py as checkpoint["state_dict_backbone"], beside epoch, step, optimizer and scheduler state
    (whose values include numpy scalars)."""
    import numpy as np

    params = [torch.nn.Parameter(v.float().clone()) for v in list(state.values())[:2]]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    params[0].grad = torch.ones_like(params[0])
    optimizer.step()
    return {
        "epoch": 11,
        "global_step": np.int64(123_456),
        "state_dict_backbone": {(f"module.{k}" if ddp else k): v for k, v in state.items()},
        "state_optimizer": optimizer.state_dict(),
        "state_lr_scheduler": {"base_lrs": [1e-4], "last_epoch": 11, "_last_lr": [np.float64(3e-5)]},
    }


@pytest.mark.parametrize("ddp", [False, True])
def test_facexformer_training_checkpoint_loads_safely(tmp_path, ddp):
    from omni_emotion.model.encoders.face import load_facexformer_checkpoint

    source = facexformer_state_dict(SWIN)
    path = tmp_path / "model.pt"
    torch.save(_training_checkpoint(source, ddp=ddp), path)
    state = load_facexformer_checkpoint(path)
    assert state.keys() == source.keys()
    encoder = FaceEncoder(SWIN, 16, fusion_dim=8, tokens_per_frame=4)
    missing, unexpected = encoder.load_state_dict(convert_facexformer_state_dict(state), strict=False)
    assert unexpected == [] and all(k.startswith("projector.") for k in missing)


class _Payload:
    """Stands for any pickled object that is not weights: loading it would run code."""


def test_facexformer_checkpoint_with_foreign_objects_is_refused(tmp_path):
    from omni_emotion.errors import ModelNotFoundError
    from omni_emotion.model.encoders.face import load_facexformer_checkpoint

    path = tmp_path / "model.pt"
    torch.save({"state_dict_backbone": facexformer_state_dict(SWIN), "args": _Payload()}, path)
    with pytest.raises(ModelNotFoundError, match="will not execute"):
        load_facexformer_checkpoint(path)
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelNotFoundError, match="cannot be read"):
        load_facexformer_checkpoint(tmp_path / "broken.pt")
    torch.save({"epoch": 3}, tmp_path / "empty.pt")
    with pytest.raises(ModelNotFoundError, match="no state dict"):
        load_facexformer_checkpoint(tmp_path / "empty.pt")


def test_facexformer_matches_torchvision_swin_b():
    """FaceXFormer's backbone is torchvision's swin_b (``features`` and ``norm`` as ``backbone.0`` and
    ``backbone.1``): its state dict, renamed by facexformer_key_map, must make our Swin compute the same four
    stage maps FaceXFormer hooks (``features.1/3/5/7``), on random weights and a random face batch."""
    models = pytest.importorskip(
        "torchvision.models", reason="needs torchvision (the GPU image has it; it has no CPU build here)"
    )
    torch.manual_seed(0)
    swin_b = models.swin_b(weights=None).eval()
    prefixes = {"features.": "backbone.0.", "norm.": "backbone.1."}
    checkpoint = {
        prefixes[old] + key[len(old) :]: value
        for key, value in swin_b.state_dict().items()
        for old in prefixes
        if key.startswith(old)
    }
    config = SwinConfig(
        embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], window_size=7, image_size=224
    )
    encoder = FaceEncoder(config, 64).eval()
    missing, unexpected = encoder.load_state_dict(convert_facexformer_state_dict(checkpoint), strict=False)
    assert not unexpected and all(not k.startswith("backbone.") for k in missing), missing
    faces = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected, x = [], faces
        for index, block in enumerate(swin_b.features):
            x = block(x)
            if index in (1, 3, 5, 7):
                expected.append(x.permute(0, 3, 1, 2))  # torchvision keeps channels last
        swin = encoder.backbone
        embedded, dims = swin.embeddings(faces)
        out = swin.encoder(
            embedded, dims, output_hidden_states=True, output_hidden_states_before_downsampling=True
        )
        ours = out.reshaped_hidden_states[1:]
    assert len(ours) == 4
    for stage, (a, b) in enumerate(zip(ours, expected)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4, msg=f"stage {stage + 1}")

"""Omni-Emotion MLLM on tiny random configs: token layout, merge errors, parity with LLaVA-OneVision,
save/load round trip, generation, losses for training and the processor. No downloads."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.model.config import FUSION_MODES
from omni_emotion.model.layout import chat_prompt, fuse_visual, merge_placeholders, vision_token_count
from omni_emotion.model.modeling import (
    MODULE_GROUPS,
    OmniEmotionForConditionalGeneration,
    llava_onevision_key_map,
)
from omni_emotion.model.presets import TINY_SPECIAL_IDS, preset_config, tiny_tokenizer
from omni_emotion.model.processor import IGNORE_INDEX, OmniEmotionProcessor, ProcessorConfig, sample_indices
from omni_emotion.types import Clip, FaceTrack

VIDEO, AUDIO = TINY_SPECIAL_IDS["<video>"], TINY_SPECIAL_IDS["<audio>"]


def _model(**overrides) -> OmniEmotionForConditionalGeneration:
    torch.manual_seed(0)
    return OmniEmotionForConditionalGeneration(preset_config("tiny", **overrides)).eval()


def _clip(frames: int = 12, seconds: float = 1.5, audio: bool = True) -> Clip:
    rng = np.random.default_rng(0)
    return Clip(
        frames=rng.integers(0, 255, (frames, 40, 48, 3), dtype=np.uint8),
        timestamps=np.linspace(0, seconds, frames, endpoint=False),
        audio=(0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32)
        if audio
        else np.zeros(0, np.float32),
        duration=seconds,
    )


def _track(times: np.ndarray) -> FaceTrack:
    rng = np.random.default_rng(1)
    n = len(times)
    return FaceTrack(
        track_id=0,
        timestamps=times,
        boxes=np.zeros((n, 4), np.float32),
        scores=np.ones(n, np.float32),
        crops=rng.integers(0, 255, (n, 224, 224, 3), dtype=np.uint8),
        crop_times=times,
        main=True,
    )


# ---- layout (pure functions) ---------------------------------------------------------------------------


@given(st.sampled_from(FUSION_MODES), st.integers(1, 8), st.integers(1, 20), st.integers(1, 9), st.booleans())
@settings(max_examples=60, deadline=None)
def test_fuse_visual_length_matches_count(fusion, frames, pv, pf, use_face):
    general = torch.randn(2, frames, pv, 8)
    face = torch.randn(2, frames, pf, 8) if use_face else None
    out = fuse_visual(general, torch.zeros(8), face, fusion, lambda q, kv: q)
    assert out.shape == (2, vision_token_count(fusion, frames, pv, pf, use_face), 8)


def test_fusion_orders():
    # tag each token with (frame, kind) so the order is readable: general = 10*f + i, face = 100 + 10*f + i
    general = torch.tensor([[[[10.0 * f + i] for i in range(2)] for f in range(2)]])
    face = torch.tensor([[[[100.0 + 10 * f + i] for i in range(3)] for f in range(2)]])
    newline = torch.tensor([-1.0])
    video = fuse_visual(general, newline, face, "video_concat")[0, :, 0].tolist()
    assert video == [0, 1, 10, 11, -1, 100, 101, 102, 110, 111, 112]
    frame = fuse_visual(general, newline, face, "frame_concat")[0, :, 0].tolist()
    assert frame == [0, 1, 100, 101, 102, 10, 11, 110, 111, 112, -1]
    cross = fuse_visual(general, newline, face, "cross_attention", lambda q, kv: q + kv.mean(1, keepdim=True))
    assert cross[0, :, 0].tolist() == [100.5, 101.5, 102.5, 120.5, 121.5, 122.5, -1]


def test_chat_prompt_wraps_modalities():
    text = chat_prompt("How does she feel?", 3, 2)
    assert (
        "<vi_start><video><video><video><vi_end><au_start><audio><audio><au_end>\nHow does she feel?" in text
    )
    assert text.endswith("<|im_start|>assistant\n")
    # LLaVA-NeXT's qwen_1_5 template, which LLaVA-OneVision was tuned with, opens with this system turn
    assert text.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n")
    assert chat_prompt("?", 1, 0, system=None).startswith("<|im_start|>user\n")
    # zero-shot: LLaVA-OneVision's own layout, video placeholders alone
    plain = chat_prompt("How?", 2, 0, markers=False)
    assert "<|im_start|>user\n<video><video>\nHow?<|im_end|>" in plain and "<vi_start>" not in plain
    with pytest.raises(ValueError, match="no audio"):
        chat_prompt("How?", 2, 3, markers=False)


def test_merge_counts_mismatch_names_modality():
    ids = torch.tensor([[1, VIDEO, VIDEO, 2]])
    embeds = torch.zeros(1, 4, 3)
    with pytest.raises(
        ValueError, match=r"vision: the prompt has 2 placeholder tokens but the encoder produced 3"
    ):
        merge_placeholders(embeds, ids, {"vision": (VIDEO, torch.ones(3, 3))})
    out = merge_placeholders(embeds, ids, {"vision": (VIDEO, torch.tensor([[1.0] * 3, [2.0] * 3]))})
    assert out[0, :, 0].tolist() == [0, 1, 2, 0]


def test_config_validation():
    with pytest.raises(ValueError, match="fusion must be one of"):
        preset_config("tiny", fusion="late")
    with pytest.raises(ValueError, match="square"):
        preset_config("tiny", face_tokens_per_frame=5)
    with pytest.raises(ValueError, match="size must be one of"):
        preset_config("13b")


@pytest.mark.parametrize("size", ["0.5b", "7b"])
def test_real_sizes_build_on_meta(size):
    config = preset_config(size)
    with torch.device("meta"):
        model = OmniEmotionForConditionalGeneration(config)
    params = sum(p.numel() for p in model.parameters())
    expected = {"0.5b": (1.4e9, 1.9e9), "7b": (8.0e9, 9.2e9)}[
        size
    ]  # LLaVA-OV + Whisper-large-v3 enc + Swin-B
    assert expected[0] < params < expected[1]
    assert ProcessorConfig.from_model_config(config).vision_tokens(8) == 8 * (196 + 16) + 1


# ---- model ---------------------------------------------------------------------------------------------


def _ids(n_vision: int, n_audio: int) -> torch.Tensor:
    s = TINY_SPECIAL_IDS
    body = (
        [s["<vi_start>"]]
        + [VIDEO] * n_vision
        + [s["<vi_end>"], s["<au_start>"]]
        + [AUDIO] * n_audio
        + [s["<au_end>"]]
    )
    return torch.tensor([[s["<|im_start|>"], 5, 6] + body + [7, 8, s["<|im_end|>"]]])


def test_parity_with_llava_onevision_when_face_and_audio_off():
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration

    config = preset_config("tiny", use_face=False, use_audio=False)
    torch.manual_seed(0)
    ref = LlavaOnevisionForConditionalGeneration(
        LlavaOnevisionConfig(
            vision_config=config.vision_config.to_dict(),
            text_config=config.text_config.to_dict(),
            video_token_index=VIDEO,
            image_token_index=0,
            vision_feature_layer=-1,
            vision_feature_select_strategy="full",
        )
    ).eval()
    model = OmniEmotionForConditionalGeneration(config).eval()
    state = {llava_onevision_key_map(k): v for k, v in ref.state_dict().items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["model.frame_embedding.weight"] and unexpected == []
    ids = _ids(8 * 4 + 1, 0)
    pixels = torch.randn(1, 8, 3, 32, 32)
    with torch.no_grad():
        expected = ref(input_ids=ids, pixel_values_videos=pixels).logits
        got = model(input_ids=ids, pixel_values_videos=pixels).logits
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("fusion", FUSION_MODES)
def test_all_modalities_forward_and_missing_ones_are_zeros(fusion):
    model = _model(fusion=fusion)
    n_vision = vision_token_count(fusion, 8, 4, 4, True)
    ids = _ids(n_vision, 10)
    inputs = dict(
        pixel_values_videos=torch.randn(1, 8, 3, 32, 32),
        face_pixel_values=torch.randn(1, 8, 3, 32, 32),
        face_mask=torch.tensor([[True] * 6 + [False] * 2]),
        input_features=torch.randn(1, 16, 200),
        audio_token_lengths=torch.tensor([10]),
    )
    with torch.no_grad():
        full = model(input_ids=ids, **inputs).logits
        no_audio = model(
            input_ids=ids,
            **{k: v for k, v in inputs.items() if k not in ("input_features", "audio_token_lengths")},
        ).logits
        muted = model(input_ids=ids, **inputs, audio_mask=torch.tensor([False])).logits
        nothing = model(input_ids=ids).logits
    assert full.shape == (1, ids.shape[1], model.config.text_config.vocab_size)
    assert torch.isfinite(full).all() and torch.isfinite(nothing).all()
    torch.testing.assert_close(no_audio, muted)  # absent audio == zero features of the same shape
    assert not torch.allclose(full, no_audio)


def test_face_mask_zeroes_frames_without_a_face():
    model = _model()
    faces = torch.randn(1, 8, 3, 32, 32)
    with torch.no_grad():
        visual = model.model.visual_features(None, faces, torch.tensor([[True, False] * 4]))
    face_tokens = visual[0, 8 * 4 + 1 :].view(8, 4, -1)
    assert face_tokens[1::2].abs().max() == 0 and face_tokens[0::2].abs().max() > 0


def test_placeholder_mismatch_raises():
    model = _model()
    with pytest.raises(ValueError, match="vision: the prompt has 10 placeholder tokens"):
        model(input_ids=_ids(10, 0), pixel_values_videos=torch.randn(1, 8, 3, 32, 32))


def test_save_load_round_trip(tmp_path):
    model = _model()
    with torch.no_grad():
        model.model.frame_embedding.weight.normal_()  # make sure trained-looking values survive
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded = OmniEmotionForConditionalGeneration.from_pretrained(tmp_path).eval()
    ids = _ids(8 * 8 + 1, 5)
    inputs = dict(
        pixel_values_videos=torch.randn(1, 8, 3, 32, 32),
        face_pixel_values=torch.randn(1, 8, 3, 32, 32),
        input_features=torch.randn(1, 16, 200),
        audio_token_lengths=torch.tensor([5]),
    )
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(input_ids=ids, **inputs).logits, model(input_ids=ids, **inputs).logits
        )


def test_training_loss_and_freezing():
    model = _model().train()
    processor = OmniEmotionProcessor(tiny_tokenizer(), ProcessorConfig.from_model_config(model.config))
    clip = _clip()
    samples = [
        processor(clip, _track(clip.timestamps), "Which emotions?", answer="happy, excited"),
        processor(_clip(audio=False), None, "Which emotions?", answer="calm"),
    ]
    batch = processor.collate(samples)
    assert batch["audio_mask"].tolist() == [True, False] and batch["face_mask"][1].sum() == 0
    assert (batch["labels"] != IGNORE_INDEX).sum() == len("happy, excited") + len("calm") + 2
    count = model.set_trainable(["audio_projector", "face_projector"])
    assert count == sum(
        p.numel()
        for p in [*model.model.audio.projector.parameters(), *model.model.face.projector.parameters()]
    )
    loss = model(**batch).loss
    loss.backward()
    assert torch.isfinite(loss)
    assert model.model.face.projector.linear_1.weight.grad is not None
    assert model.model.language_model.embed_tokens.weight.grad is None
    assert set(model.module_groups()) == set(MODULE_GROUPS)
    with pytest.raises(ValueError, match="unknown module groups"):
        model.set_trainable(["everything"])


def test_generate_produces_tokens():
    model = _model()
    processor = OmniEmotionProcessor(tiny_tokenizer(), ProcessorConfig.from_model_config(model.config))
    clip = _clip()
    inputs = processor(clip, _track(clip.timestamps[::2]), "Describe the emotion.")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=6, do_sample=False, min_new_tokens=6)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 6


# ---- processor -----------------------------------------------------------------------------------------


def test_processor_shapes_and_counts():
    config = ProcessorConfig.from_model_config(preset_config("tiny"))
    processor = OmniEmotionProcessor(tiny_tokenizer(), config)
    clip = _clip(frames=12, seconds=1.5)
    out = processor(clip, _track(clip.timestamps[:6]), "How?")
    assert out["pixel_values_videos"].shape == (1, 8, 3, 32, 32)
    assert out["face_pixel_values"].shape == (1, 8, 3, 32, 32)
    # crops cover the first 0.75 s; sampled frames after 0.75 + 0.5 s have no face
    assert out["face_mask"][0].tolist() == [True] * 7 + [False]
    assert out["input_features"].shape == (1, 16, 200)
    n_audio = int(out["audio_token_lengths"][0])
    assert n_audio == 25  # 1.5 s: 150 mel frames -> 75 encoder frames -> 25 tokens of 60 ms
    ids = out["input_ids"][0]
    assert int((ids == VIDEO).sum()) == 8 * 8 + 1 and int((ids == AUDIO).sum()) == n_audio


def test_processor_audio_only_and_still_image():
    processor = OmniEmotionProcessor(
        tiny_tokenizer(), ProcessorConfig.from_model_config(preset_config("tiny"))
    )
    audio_only = Clip(
        frames=np.zeros((0, 1, 1, 3), np.uint8),
        timestamps=np.zeros(0),
        audio=np.zeros(8000, np.float32),
        duration=0.5,
    )
    out = processor(audio_only, None, "?")
    assert "pixel_values_videos" not in out and int((out["input_ids"] == VIDEO).sum()) == 8 * 8 + 1
    still = _clip(frames=1, seconds=0.0, audio=False)
    out = processor(still, _track(still.timestamps), "?")
    # a still is one real frame and seven zero padding frames: the same token count as a video
    assert out["pixel_values_videos"].shape == (1, 8, 3, 32, 32)
    assert out["frame_mask"][0].tolist() == [True] + [False] * 7
    assert (
        out["pixel_values_videos"][0, 1:].abs().max() == 0
        and out["pixel_values_videos"][0, 0].abs().max() > 0
    )
    assert (
        out["face_mask"][0].tolist() == [True] + [False] * 7
        and out["face_pixel_values"][0, 1:].abs().max() == 0
    )
    assert int((out["input_ids"] == VIDEO).sum()) == 8 * 8 + 1
    assert int((out["input_ids"] == AUDIO).sum()) == 1  # no audio: one zero token


def test_cached_log_mel_gives_identical_inputs():
    processor = OmniEmotionProcessor(
        tiny_tokenizer(), ProcessorConfig.from_model_config(preset_config("tiny"))
    )
    clip = _clip(frames=12, seconds=1.5)
    direct = processor(clip, _track(clip.timestamps), "How?", answer="calm")
    mel, samples = processor.log_mel(clip.audio)
    assert samples == clip.audio.size
    silent = Clip(frames=clip.frames, timestamps=clip.timestamps, audio=np.zeros(0, np.float32), duration=0.1)
    for stored in (mel, mel[0]):  # batch-1 or bare (n_mels, mel_frames)
        cached = processor(
            silent, _track(clip.timestamps), "How?", answer="calm", audio_features=(stored, samples)
        )
        assert cached.keys() == direct.keys()
        for key in direct:
            assert torch.equal(cached[key], direct[key]), key
    with pytest.raises(ValueError, match="shape"):
        processor(silent, None, "?", audio_features=(mel[:, :, :10], samples))
    with pytest.raises(ValueError, match="samples"):
        processor(silent, None, "?", audio_features=(mel, 0))


def test_processor_round_trip(tmp_path):
    import dataclasses

    config = dataclasses.replace(
        ProcessorConfig.from_model_config(preset_config("tiny")), num_frames=4, face_max_gap_s=0.25
    )
    processor = OmniEmotionProcessor(tiny_tokenizer(), config)
    processor.save_pretrained(tmp_path)
    loaded = OmniEmotionProcessor.from_pretrained(tmp_path)
    assert loaded.config == config and loaded.config.num_frames == 4
    assert loaded.tokenizer.get_vocab() == processor.tokenizer.get_vocab()
    clip = _clip()
    a = processor(clip, _track(clip.timestamps), "How?", answer="calm")
    b = loaded(clip, _track(clip.timestamps), "How?", answer="calm")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # a model folder without processor_config.json: the settings follow the model's config
    model_dir = tmp_path / "model"
    preset_config("tiny", fusion="frame_concat").save_pretrained(model_dir)
    processor.tokenizer.save_pretrained(model_dir)
    derived = OmniEmotionProcessor.from_pretrained(model_dir)
    assert derived.config == ProcessorConfig.from_model_config(preset_config("tiny", fusion="frame_concat"))
    with pytest.raises(FileNotFoundError):
        OmniEmotionProcessor.from_pretrained(tmp_path / "nowhere")
    (tmp_path / "processor_config.json").write_text('{"num_frames": 4, "colour": 1}')
    with pytest.raises(ValueError, match="colour"):
        OmniEmotionProcessor.from_pretrained(tmp_path)


def test_mixed_batch_of_video_still_and_audio_only_trains():
    model = _model().train()
    processor = OmniEmotionProcessor(tiny_tokenizer(), ProcessorConfig.from_model_config(model.config))
    video = _clip(frames=12, seconds=1.5)
    still = _clip(frames=1, seconds=0.0, audio=False)
    audio_only = Clip(
        frames=np.zeros((0, 1, 1, 3), np.uint8),
        timestamps=np.zeros(0),
        audio=video.audio[:8000].copy(),
        duration=0.5,
    )
    singles = [
        processor(video, _track(video.timestamps), "Which emotions?", answer="happy"),
        processor(still, _track(still.timestamps), "Which emotions?", answer="calm"),
        processor(audio_only, None, "Which emotions?", answer="sad, tired"),
    ]
    batch = processor.collate(singles)
    assert batch["pixel_values_videos"].shape == (3, 8, 3, 32, 32)
    assert batch["frame_mask"].sum(1).tolist() == [8, 1, 0]
    assert batch["face_mask"].sum(1).tolist() == [8, 1, 0]
    assert batch["audio_mask"].tolist() == [True, False, True]
    model.set_trainable(["vision_projector", "face_projector", "audio_projector", "frame_embedding"])
    loss = model(**batch).loss
    loss.backward()
    assert torch.isfinite(loss)
    for module in (model.model.vision.projector, model.model.face.projector, model.model.audio.projector):
        assert module.linear_1.weight.grad.abs().sum() > 0
    # each row of the batch gets the logits it gets alone (padding changes nothing but the padded tokens)
    model.eval()
    with torch.no_grad():
        together = model(**batch).logits
        for row, single in enumerate(singles):
            width = single["input_ids"].shape[1]
            alone = model(**{k: v for k, v in single.items() if k != "labels"}).logits
            torch.testing.assert_close(together[row : row + 1, :width], alone, atol=1e-4, rtol=1e-4)


def test_padding_frames_are_zero_tokens_and_not_encoded():
    model = _model(fusion="frame_concat")
    pixels = torch.randn(1, 8, 3, 32, 32)
    mask = torch.tensor([[True] * 3 + [False] * 5])
    with torch.no_grad():
        masked = model.model.visual_features(pixels, None, None, mask)
        garbage = pixels.clone()
        garbage[0, 3:] = 1e6  # padding frames' pixels must not matter
        again = model.model.visual_features(garbage, None, None, mask)
        short = model.model.visual_features(pixels[:, :3], None, None)
    per_frame = masked[0, :-1].view(8, 8, -1)  # frame_concat: 4 general + 4 face tokens per frame
    assert per_frame[3:].abs().max() == 0 and per_frame[:3, :4].abs().max() > 0
    torch.testing.assert_close(masked, again, rtol=0, atol=0)
    torch.testing.assert_close(per_frame[:3].reshape(1, -1, masked.shape[-1]), short[:, :-1])


def test_sample_indices():
    assert sample_indices(3, 8).tolist() == [0, 1, 2]
    idx = sample_indices(100, 8)
    assert len(idx) == 8 and idx[0] == 0 and idx[-1] == 99 and (np.diff(idx) > 0).all()


def test_processor_rejects_tokenizer_without_special_tokens():
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    plain = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.BPE(vocab={"a": 0}, merges=[])))
    with pytest.raises(ValueError, match="weights init"):
        OmniEmotionProcessor(plain, ProcessorConfig())

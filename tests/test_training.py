"""Training data side: manifest, templates, converters, phase configs, schedule (no model needed)."""

from __future__ import annotations

import itertools
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni_emotion.cli import main
from omni_emotion.errors import ConfigError
from omni_emotion.mentions import parse_labels
from omni_emotion.training.config import PHASE_GROUPS, phase_config
from omni_emotion.training.converters import convert, find_media, from_labels, from_openset, from_reasons
from omni_emotion.training.manifest import (
    Sample,
    TrainingDataError,
    Turn,
    read_manifest,
    sample_to_dict,
    write_manifest,
)
from omni_emotion.training.schedule import lr_factor, micro_batch_stream, micro_batches_per_epoch, total_steps
from omni_emotion.training.templates import TASKS, instruction


def _line(**kw):
    base = {
        "id": "a",
        "video": "a.mp4",
        "conversation": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "x"}],
    }
    base.update(kw)
    return json.dumps({k: v for k, v in base.items() if v is not None})


@pytest.fixture
def media(tmp_path):
    for name in ("a.mp4", "b.mp4", "c.wav"):
        (tmp_path / name).write_bytes(b"\0")
    return tmp_path


# -- manifest -----------------------------------------------------------------------------------------------


def test_manifest_round_trip(media):
    samples = [
        Sample(
            "a",
            (Turn("user", "Which emotions?"), Turn("assistant", "happy, excited")),
            video=media / "a.mp4",
            task="ov_labels",
        ),
        Sample("c", (Turn("user", "Transcribe."), Turn("assistant", "hello there")), audio=media / "c.wav"),
    ]
    path = media / "sub" / "train.jsonl"
    assert write_manifest(samples, path) == 2
    first = path.read_text().splitlines()[0]
    assert json.loads(first)["video"] == "../a.mp4"  # relative to the manifest's folder
    back = read_manifest(path)
    assert [sample_to_dict(s) for s in back] == [sample_to_dict(s) for s in samples]
    assert [s.line for s in back] == [1, 2]
    assert back[0].prompt == "Which emotions?" and back[0].answer == "happy, excited"


@pytest.mark.parametrize(
    "text, needle",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (_line(vidoe="a.mp4"), "unknown key 'vidoe'"),
        (_line(video="missing.mp4"), "does not exist"),
        (_line(video=None), "needs a 'video' or an 'audio'"),
        (
            _line(conversation=[{"role": "assistant", "content": "x"}, {"role": "user", "content": "q"}]),
            "role 'assistant'",
        ),
        (_line(conversation=[{"role": "user", "content": "q"}]), "has 1 turns"),
        (
            _line(conversation=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "  "}]),
            "is empty",
        ),
        (_line(conversation="hi"), "must be a list"),
        (_line(conversation=[{"role": "user"}, {"role": "assistant", "content": "x"}]), "turn 1 must be"),
        (_line(id=3), "'id' must be a string"),
    ],
)
def test_bad_manifest_names_file_and_line(media, text, needle):
    path = media / "bad.jsonl"
    path.write_text(_line() + "\n\n" + text + "\n")
    with pytest.raises(TrainingDataError) as err:
        read_manifest(path)
    message = str(err.value)
    assert message.startswith("bad.jsonl, line 3: ") and needle in message
    assert "\n" not in message and message.endswith(".")


def test_empty_or_absent_manifest(tmp_path):
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(TrainingDataError, match="holds no samples"):
        read_manifest(tmp_path / "e.jsonl")
    with pytest.raises(TrainingDataError, match="does not exist"):
        read_manifest(tmp_path / "nope.jsonl")
    (tmp_path / "latin1.jsonl").write_bytes('{"id": "caf\u00e9"}\n'.encode("latin-1"))
    with pytest.raises(TrainingDataError, match="not UTF-8 text"):
        read_manifest(tmp_path / "latin1.jsonl")


# -- templates and converters -------------------------------------------------------------------------------


def test_templates_are_stable_and_varied():
    for task in TASKS:
        kw = {"candidates": ["happy", "sad"]} if task == "classify" else {}
        texts = {instruction(task, f"sample_{i}", **kw) for i in range(40)}
        assert len(texts) > 1
        assert instruction(task, "x", **kw) == instruction(task, "x", **kw)
    assert "happy, sad" in instruction("classify", "x", candidates=["happy", "sad"])
    with pytest.raises(ConfigError):
        instruction("classify", "x")
    with pytest.raises(ConfigError):
        instruction("dance", "x")


def test_openset_converter_round_trip(media):
    csv = media / "openset.csv"
    csv.write_text("name,openset\na,\"['excited', 'Joyful', 'happy']\"\nc,\"['sad']\"\n")
    samples = from_openset(csv, media)
    assert [s.id for s in samples] == ["a", "c"]
    assert samples[0].video == (media / "a.mp4").resolve() and samples[1].audio == (media / "c.wav").resolve()
    assert samples[0].answer == "excited, joyful, happy" and samples[0].task == "ov_labels"
    assert parse_labels(samples[0].answer) == ["excited", "joyful", "happy"]
    write_manifest(samples, media / "m.jsonl")
    assert [sample_to_dict(s) for s in read_manifest(media / "m.jsonl")] == [
        sample_to_dict(s) for s in samples
    ]


def test_reason_and_label_converters(media):
    (media / "r.csv").write_text('name,reason\nb,"The face frowns, the voice is loud; she is angry."\n')
    (media / "r.jsonl").write_text(json.dumps({"name": "b", "reason": "Calm voice."}) + "\n")
    assert from_reasons(media / "r.csv", media)[0].answer.endswith("she is angry.")
    assert from_reasons(media / "r.jsonl", media)[0].task == "describe"
    (media / "l.csv").write_text("name,label\na,Happy\nb,sad\nc,happy\n")
    samples = from_labels(media / "l.csv", media)
    assert [s.answer for s in samples] == ["happy", "sad", "happy"]
    assert all("happy, sad" in s.prompt for s in samples)
    with pytest.raises(TrainingDataError, match=r"l\.csv, line 3: label 'sad' is not one of the candidates"):
        from_labels(media / "l.csv", media, candidates=["happy", "angry"])


@pytest.mark.parametrize(
    "content, needle",
    [
        ("name,other\na,x\n", "has no 'openset' column"),
        ("name,openset\nzzz,\"['x']\"\n", "line 2: no media file for 'zzz'"),
        ('name,openset\na,"[]"\n', "line 2: the annotation of 'a' is empty"),
    ],
)
def test_converter_errors(media, content, needle):
    (media / "o.csv").write_text(content)
    with pytest.raises(TrainingDataError, match=needle):
        from_openset(media / "o.csv", media)


def test_find_media_prefers_exact_name(media):
    assert find_media(media, "a") == media / "a.mp4"
    assert find_media(media, "c.wav") == media / "c.wav"
    assert find_media(media, "zzz") is None


def test_convert_cli(media, capsys):
    (media / "o.csv").write_text("name,openset\na,\"['calm']\"\n")
    out = media / "m.jsonl"
    assert (
        main(
            [
                "train",
                "convert",
                "--format",
                "openset",
                "--input",
                str(media / "o.csv"),
                "--media",
                str(media),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert read_manifest(out)[0].answer == "calm"
    assert (
        main(
            [
                "train",
                "convert",
                "--format",
                "openset",
                "--input",
                str(media / "nope.csv"),
                "--media",
                str(media),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_openset_of_ovmerd(data_dir):
    path = data_dir / "ovmerd" / "check-openset.csv"
    samples = convert("openset", path, data_dir / "no-media-here", check_files=False)
    assert len(samples) == 332
    assert parse_labels(samples[1].answer) == ["excited", "joyful", "happy"]


# -- configs ------------------------------------------------------------------------------------------------


def test_phase_defaults_are_the_papers():
    one, two, three = (phase_config(p) for p in (1, 2, 3))
    assert (one.learning_rate, one.batch_size, one.epochs, one.trainable) == (
        1e-3,
        256,
        1.0,
        ("audio_projector",),
    )
    # the cross-attention group is empty unless the model fuses with cross-attention
    assert (two.learning_rate, two.batch_size, two.epochs, two.trainable) == (
        1e-3,
        256,
        1.0,
        ("face_projector", "cross_attention"),
    )
    assert (three.learning_rate, three.batch_size, three.epochs) == (1e-5, 128, 3.0)
    assert set(three.trainable) >= {
        "vision_projector",
        "face_projector",
        "cross_attention",
        "audio_projector",
        "llm",
    }
    assert "face_fusion" not in three.trainable and "face_backbone" not in three.trainable
    assert three.trainable == PHASE_GROUPS[3] and three.num_frames == 8
    assert phase_config(3, micro_batch_size=4).accumulation_steps == 32


@pytest.mark.parametrize(
    "kw",
    [
        {"micro_batch_size": 3},
        {"learning_rate": 0},
        {"precision": "fp16"},
        {"trainable": ()},
        {"max_steps": 0},
        {"warmup_ratio": 1.0},
        {"nonsense": 1},
    ],
)
def test_bad_config(kw):
    with pytest.raises(ConfigError):
        phase_config(1, **kw)


# -- schedule -----------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(total=st.integers(1, 500), warm_frac=st.floats(0, 0.5), min_ratio=st.floats(0, 1))
def test_lr_factor_shape(total, warm_frac, min_ratio):
    warmup = int(warm_frac * total)
    factors = [lr_factor(s, total, warmup, min_ratio) for s in range(total)]
    assert all(0 < f <= 1 for f in factors[:warmup])
    assert all(min_ratio - 1e-9 <= f <= 1 + 1e-9 for f in factors[warmup:])
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(factors[: warmup + 1]))
    after = factors[warmup:]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(after))
    if total - warmup > 1:
        assert math.isclose(after[0], 1.0) and math.isclose(after[-1], min_ratio, abs_tol=1e-9)


def test_total_steps():
    assert total_steps(1000, 256, 1) == 4
    assert total_steps(1000, 128, 3) == 24
    assert total_steps(1000, 128, 3, max_steps=5) == 5
    assert total_steps(1, 256, 0.1) == 1


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 30), micro=st.integers(1, 5), seed=st.integers(0, 99), skip=st.integers(0, 20))
def test_micro_batch_stream(n, micro, seed, skip):
    per_epoch = micro_batches_per_epoch(n, micro)
    assert per_epoch == math.ceil(n / micro)
    stream = micro_batch_stream(n, micro, seed=seed)
    epochs = [list(itertools.islice(stream, per_epoch)) for _ in range(2)]
    for batches in epochs:
        assert sorted(i for b in batches for i in b) == list(range(n))  # every sample once
        assert (
            all(len(b) == micro for b in batches[:-1]) and 1 <= len(batches[-1]) <= micro
        )  # only the last is short
    flat = epochs[0] + epochs[1]
    skip %= len(flat)
    resumed = list(
        itertools.islice(micro_batch_stream(n, micro, seed=seed, start=skip), 2 * per_epoch - skip)
    )
    assert resumed == flat[skip:]
    assert list(itertools.islice(micro_batch_stream(n, micro, seed=seed, shuffle=False), per_epoch)) == [
        list(range(j, min(j + micro, n))) for j in range(0, n, micro)
    ]


def test_the_engine_asks_in_the_words_training_used(tmp_path):
    """A trained omni engine's question (transcript first, then LABELS_PROMPT / EXPLAIN_PROMPT) is, to the
    character, the prompt the converters write for a clip with that transcript and that phrasing."""
    import dataclasses

    import numpy as np

    from omni_emotion.engines.omni import EXPLAIN_PROMPT, LABELS_PROMPT, OmniEngine
    from omni_emotion.model.processor import ProcessorConfig
    from omni_emotion.types import Clip, Perception, Transcript

    said = "I can't believe you did that"
    for task, question, fmt in (
        ("ov_labels", LABELS_PROMPT, "openset"),
        ("describe", EXPLAIN_PROMPT, "reason"),
    ):
        # a clip name whose stable phrasing is the engine's question (it is one of the task's phrasings)
        name = next(n for n in (f"clip{i}" for i in range(200)) if instruction(task, n) == question)
        (tmp_path / f"{name}.mp4").write_bytes(b"\0")
        column = "openset" if fmt == "openset" else "reason"
        (tmp_path / "a.csv").write_text(f"name,{column},subtitle\n{name},\"['happy']\",{said}\n")
        (sample,) = convert(fmt, tmp_path / "a.csv", tmp_path)

        class Model:  # what the engine reads of a trained model
            config = type("Config", (), {"zero_shot": False})()

            def eval(self):
                return self

        class Processor:
            def __init__(self, tokenizer, config):
                self.tokenizer, self.config = tokenizer, config

        engine = OmniEngine(Model(), Processor(None, ProcessorConfig()), device=None)
        clip = Clip(
            frames=np.zeros((0, 4, 4, 3), np.uint8),
            timestamps=np.zeros(0),
            audio=np.zeros(0, np.float32),
            duration=1.0,
        )
        perception = dataclasses.replace(
            Perception(clip=clip), transcript=Transcript(text=said, language="en")
        )
        assert engine.prompt(perception, question) == sample.prompt
        assert sample.prompt == f'The person says: "{said}"\n{question}'

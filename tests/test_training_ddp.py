"""Data-parallel training on CPU (gloo): 2 processes against 1 with the same global batch, DDP and FSDP2.

The tiny random model trains phase 3 (projectors, time embedding and the LLM) for 4 steps of 4 samples, 1 per
micro-batch: the single process accumulates 4 micro-batches a step, each of 2 ranks 2. The samples alternate
audio-only tones and silent stills, so in the same micro-batch one rank uses the audio projector and the other
the vision projector (FSDP2 then needs every rank to reduce-scatter every gradient). The two runs sum the
same per-sample gradients in a different order, so in fp32 they agree to rounding: losses and final weights
within 1e-5.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import write_wav
from safetensors.torch import load_file
from test_training_phases import tiny_model

from omni_emotion.cli import main
from omni_emotion.training.distributed import DistContext, launch, process_group
from omni_emotion.training.manifest import Sample, Turn, write_manifest
from omni_emotion.training.schedule import micro_batch_stream
from omni_emotion.training.toy_task import write_colour_image

SR = 16_000
ATOL = 1e-5
TRAINED = (
    "model.vision.projector.",
    "model.vision.image_newline",
    "model.face.projector.",
    "model.audio.projector.",
    "model.frame_embedding.",
    "model.language_model.",
    "lm_head.",
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """An init folder (tiny model + tokenizer) and a manifest of 4 half-second tones (audio only) alternating
    with 4 stills (video only)."""
    folder = tmp_path_factory.mktemp("ddp")
    t = np.arange(SR // 2) / SR
    samples = []
    for i in range(8):
        answer = "L" if i % 4 < 2 else "H"
        if i % 2 == 0:
            hz = 300 + 20 * i if answer == "L" else 2500 + 20 * i
            path = write_wav(
                folder / f"tone{i}.wav", (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32), SR
            )
            samples.append(
                Sample(f"tone{i}", (Turn("user", "pitch?"), Turn("assistant", answer)), audio=path)
            )
        else:
            colour = (40 + 20 * i, 30, 30) if answer == "L" else (30, 30, 200 + 5 * i)
            path = write_colour_image(folder / f"still{i}.png", colour)
            samples.append(
                Sample(f"still{i}", (Turn("user", "pitch?"), Turn("assistant", answer)), video=path)
            )
    model, processor = tiny_model()
    model.save_pretrained(folder / "init")
    processor.tokenizer.save_pretrained(folder / "init")
    write_manifest(samples, folder / "m.jsonl")
    return folder


def _argv(folder: Path, out: str, *extra: str) -> list[str]:
    return [
        "train",
        "--phase",
        "3",
        "--data",
        str(folder / "m.jsonl"),
        "--init",
        str(folder / "init"),
        "--out",
        str(folder / out),
        "--batch-size",
        "4",
        "--micro-batch-size",
        "1",
        "--max-steps",
        "4",
        "--epochs",
        "3",
        "--lr",
        "1e-2",
        "--warmup-ratio",
        "0",
        "--log-every",
        "1",
        "--save-every",
        "2",
        "--device",
        "cpu",
        "--cache",
        str(folder / "cache"),
        "--num-frames",
        "4",
        *extra,
    ]


def _both_engines(ddp: list[str], fsdp: list[str]) -> tuple[int, int]:
    """One rank of the 2-process job: a DDP run, then an FSDP2 run in the same process group (one spawn for
    both saves ~30 s)."""
    ctx = DistContext.from_env()
    with process_group(ctx, torch.device("cpu")):
        return main(ddp), main(fsdp)


def _losses(out: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in map(json.loads, (out / "train_log.jsonl").read_text().splitlines())}


def _assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=ATOL, msg=name)


def test_two_processes_train_like_one_and_resume_on_one(setup):
    folder = setup
    # the ranks see different modalities in some micro-batch (rank r runs positions r, r + 2 of each step's 4)
    stream = micro_batch_stream(8, 1, seed=0)
    steps = [[next(stream)[0] % 2 for _ in range(4)] for _ in range(4)]
    assert any(step[0] != step[1] or step[2] != step[3] for step in steps)
    assert main(_argv(folder, "one")) == 0
    results = launch(2, _both_engines, _argv(folder, "ddp"), _argv(folder, "fsdp", "--shard"))
    assert results == {0: (0, 0), 1: (0, 0)}

    one = _losses(folder / "one")
    assert sorted(one) == [1, 2, 3, 4] and one[4] < one[1]
    weights = load_file(folder / "one" / "model.safetensors")
    init = load_file(folder / "init" / "model.safetensors")
    for run in ("ddp", "fsdp"):
        out = folder / run
        assert _losses(out) == pytest.approx(one, abs=ATOL)
        # one writer: the same safetensors layout the omni engine loads, checkpoints with a trainer state
        assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-4"]
        assert (out / "checkpoint-2" / "trainer_state.pt").is_file()
        trained = load_file(out / "model.safetensors")
        _assert_same_weights(trained, weights)
        # frozen groups (encoders, towers) are bit-for-bit the initial ones; under FSDP2 these tensors are
        # gathered from both ranks' shards, so neither rank moved them
        frozen = [n for n in init if not n.startswith(TRAINED)]
        assert frozen and all(torch.equal(trained[n], init[n]) for n in frozen)
        llm = [n for n in trained if n.startswith("model.language_model.")]
        assert any(not torch.equal(trained[n], init[n]) for n in llm)

    # the 2-process FSDP2 checkpoint at step 2 resumes in 1 process and ends where the 1-process run did
    assert main(_argv(folder, "resumed", "--resume", str(folder / "fsdp" / "checkpoint-2"))) == 0
    assert _losses(folder / "resumed") == pytest.approx({3: one[3], 4: one[4]}, abs=ATOL)
    _assert_same_weights(load_file(folder / "resumed" / "model.safetensors"), weights)


def test_process_options_are_checked_before_any_worker_starts(setup, capsys):
    folder = setup
    assert main(_argv(folder, "x", "--nproc", "3")) == 2
    assert "multiple of micro_batch_size x --nproc (1 x 3)" in capsys.readouterr().err
    assert main(_argv(folder, "x", "--nproc", "0")) == 2
    assert "--nproc must be at least 1" in capsys.readouterr().err
    assert main(_argv(folder, "x", "--shard")) == 2
    assert "--shard splits the model over several processes" in capsys.readouterr().err

"""Phase 4 (GRPO with the EW reward) on the tiny random model: reward terms, loss, freezing, logs, resume, CLI,
and a toy task whose reward must rise."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_eval_wheels import write_tables

from omni_emotion.cli import main
from omni_emotion.errors import ConfigError
from omni_emotion.evaluation import WheelTables, group_scores
from omni_emotion.model.modeling import OmniEmotionForConditionalGeneration
from omni_emotion.model.presets import preset_config, tiny_tokenizer
from omni_emotion.model.processor import OmniEmotionProcessor, ProcessorConfig
from omni_emotion.training.cache import FeatureCache
from omni_emotion.training.config import phase_config
from omni_emotion.training.converters import from_openset
from omni_emotion.training.data import ManifestDataset
from omni_emotion.training.distributed import DistContext
from omni_emotion.training.grpo import REWARDS_FILE, GRPOTrainer, PromptDataset
from omni_emotion.training.manifest import TrainingDataError, Turn, read_manifest, write_manifest
from omni_emotion.training.rl import answer_labels, answer_rewards, group_advantages, grpo_loss
from omni_emotion.training.rl_config import RLConfig
from omni_emotion.training.toy_task import phase3_model, toy_samples, toy_tables
from omni_emotion.training.trainer import Trainer
from omni_emotion.weights import omni_missing_files

TOY_TABLES = toy_tables()


# -- reward terms, advantages, loss (pure) ------------------------------------------------------------------


def test_list_answers_give_labels_and_the_format_verdict():
    assert answer_labels("Angry, let down,  Sad.", "list") == (["angry", "let down", "sad"], True)
    assert answer_labels("happy, 42!, sad", "list") == (["happy", "sad"], False)  # one piece is no label
    assert answer_labels("", "list") == ([], False)
    assert answer_labels("happy, happy\nand more text", "list") == (["happy"], True)  # first line only


def test_rewards_add_the_ew_score_format_and_length_terms():
    config = RLConfig(max_new_tokens=10, length_free_tokens=4, format_weight=0.5, length_penalty=0.2)
    r = answer_rewards(
        ["mad"],
        ["mad", "sad", "mad, 7", "sad"],
        [4, 7, 10, 10],
        [False, False, False, True],
        TOY_TABLES,
        config,
    )
    np.testing.assert_allclose(r.ew, [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(r.format, [1.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(r.length, [0.0, 0.5, 1.0, 1.0])  # (7 - 4) / (10 - 4); cut off = 1
    np.testing.assert_allclose(r.total, r.ew + 0.5 * r.format - 0.2 * r.length)
    assert r.labels == [["mad"], ["sad"], ["mad"], ["sad"]]
    # the EW term is the evaluation package's own figure for each answer's labels
    np.testing.assert_array_equal(r.ew, group_scores(["mad"], r.labels, TOY_TABLES, config.grouping))


def test_rule_extraction_reads_prose():
    from omni_emotion.evaluation import RuleExtractor

    tables = WheelTables({"angry": ("a",) * 12, "sad": ("s",) * 12})
    config = RLConfig(extractor="rule")
    r = answer_rewards(
        ["angry"],
        ["He is clearly angry, not sad.", "No idea."],
        [8, 3],
        [False, False],
        tables,
        config,
        RuleExtractor(tables),
    )
    assert r.labels == [["angry"], []] and r.ew.tolist() == [1.0, 0.0] and r.format.tolist() == [1.0, 0.0]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.floats(-3, 3), min_size=2, max_size=8), min_size=1, max_size=4).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    )
)
@example([[0.8026440180056729] * 5])  # their float64 mean is off in the last bit
def test_advantages_are_centred_and_scaled_per_group(rows):
    adv = group_advantages(torch.tensor(rows, dtype=torch.float64))
    assert torch.allclose(adv.mean(dim=-1), torch.zeros(len(rows), dtype=torch.float64), atol=1e-9)
    for r, a in zip(rows, adv):
        if np.std(r) > 0.01:  # std / (std + eps) >= 0.99 there; near eps the scale is below 1 by design
            assert a.std(unbiased=False).item() == pytest.approx(1.0, abs=0.02)
        elif np.ptp(r) == 0:
            assert torch.equal(a, torch.zeros_like(a))  # equal rewards: nothing to learn from the group


def test_loss_pushes_up_good_answers_and_clipping_stops_the_push():
    logps = torch.zeros(2, 3, requires_grad=True)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    adv = torch.tensor([1.0, -1.0])
    loss, stats = grpo_loss(logps, logps.detach(), logps.detach(), adv, mask, 0.2, 0.1)
    loss.backward()
    assert stats == {"kl": 0.0, "clip_fraction": 0.0}
    assert (
        (logps.grad[0, :2] < 0).all() and (logps.grad[1] > 0).all() and logps.grad[0, 2] == 0
    )  # descent raises row 0
    # a ratio already above 1 + eps with a positive advantage gets no more push, and is counted as clipped
    far = torch.full((1, 2), 0.5, requires_grad=True)
    loss, stats = grpo_loss(far, torch.zeros(1, 2), None, torch.tensor([1.0]), torch.ones(1, 2), 0.2, 0.0)
    loss.backward()
    assert torch.equal(far.grad, torch.zeros(1, 2)) and stats["clip_fraction"] == 1.0
    # the k3 KL estimate is positive away from the reference and its gradient pulls back towards it
    drift = torch.full((1, 2), -0.3, requires_grad=True)
    loss, stats = grpo_loss(
        drift, drift.detach(), torch.zeros(1, 2), torch.zeros(1), torch.ones(1, 2), 0.2, 1.0
    )
    loss.backward()
    assert stats["kl"] == pytest.approx(math.exp(0.3) - 0.3 - 1) and (drift.grad < 0).all()


@pytest.mark.parametrize(
    "kw",
    [
        {"num_generations": 1},
        {"clip_epsilon": 0},
        {"grouping": "W6-L1"},
        {"extractor": "llm"},
        {"length_free_tokens": 64},
        {"kl_beta": -1},
    ],
)
def test_bad_rl_config(kw):
    with pytest.raises(ConfigError):
        RLConfig(**kw)


# -- manifest and converter ----------------------------------------------------------------------------------


def test_manifest_carries_ov_labels_and_the_converter_fills_them(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"\0")
    (tmp_path / "b.mp4").write_bytes(b"\0")
    gt = tmp_path / "gt.csv"  # OV-MERD's GT layout, as a spreadsheet exports it (byte-order mark)
    gt.write_text(
        "\ufeffname,openset\na,\"['Excited', 'joyful', 'excited']\"\nb,\"['sad']\"\n", encoding="utf-8"
    )
    samples = from_openset(gt, tmp_path)
    assert [s.labels for s in samples] == [("excited", "joyful"), ("sad",)]
    assert samples[0].answer == "excited, joyful"
    write_manifest(samples, tmp_path / "m.jsonl")
    assert json.loads((tmp_path / "m.jsonl").read_text().splitlines()[0])["labels"] == ["excited", "joyful"]
    assert [s.labels for s in read_manifest(tmp_path / "m.jsonl")] == [("excited", "joyful"), ("sad",)]
    (tmp_path / "labels.csv").write_text("name,labels\na,\"['calm']\"\n")  # the other column name eval reads
    assert from_openset(tmp_path / "labels.csv", tmp_path)[0].labels == ("calm",)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps(
            {
                "video": "a.mp4",
                "labels": "sad",
                "conversation": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "x"}],
            }
        )
        + "\n"
    )
    with pytest.raises(TrainingDataError, match=r"bad.jsonl, line 1: 'labels' must be a list"):
        read_manifest(bad)


# -- the toy task: name a still's colour in the reward's vocabulary -----------------------------------------


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """8 stills (red: mad, blue: sad) and the 'phase 3' tiny model tuned to answer mad or sad whatever the
    colour (each still seen with both answers): its answers are well formed and right half of the time."""
    folder = tmp_path_factory.mktemp("toy")
    samples = toy_samples(folder)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the tiny model's ops are too small to share (restored after this module)
    torch.manual_seed(0)
    config = preset_config("tiny")
    processor = OmniEmotionProcessor(
        tiny_tokenizer(), dataclasses.replace(ProcessorConfig.from_model_config(config), num_frames=1)
    )
    model = phase3_model(samples, processor, config, folder)
    init = folder / "phase3-model"
    model.save_pretrained(init)
    processor.save_pretrained(init)
    yield {"samples": samples, "processor": processor, "init": init, "cache": folder / "cache"}
    torch.set_num_threads(threads)


def _toy_trainer(toy, out, steps, rl=None, seed=0, dist=None, **train):
    torch.manual_seed(seed)
    model = OmniEmotionForConditionalGeneration.from_pretrained(toy["init"])
    data = PromptDataset(
        toy["samples"], toy["processor"], FeatureCache(toy["processor"], toy["cache"]), system=None
    )
    config = phase_config(
        4,
        **{
            "batch_size": 4,
            "micro_batch_size": 2,
            "epochs": steps * 4 / 8,
            "learning_rate": 3e-3,
            "warmup_ratio": 0.0,
            "log_every": 10,
            "precision": "fp32",
            "num_frames": 1,
            "seed": seed,
            **train,
        },
    )
    rl = rl or RLConfig(num_generations=8, max_new_tokens=8, length_free_tokens=6)
    return GRPOTrainer(
        model,
        data,
        config,
        rl,
        TOY_TABLES,
        out,
        tokenizer=toy["processor"].tokenizer,
        device="cpu",
        progress=False,
        dist=dist or DistContext(),
    )


# chosen before this test first ran; every one must learn
TOY_SEEDS = (0, 1, 2, 3, 4)


def test_the_toy_start_sees_the_colour_but_answers_without_it(toy):
    """The RL starting point's answer is mad or sad at random whatever the colour (so the reward must teach
    it), yet it names the colour when asked: the colour reaches the answer, as in a real phase-3 model."""
    from omni_emotion.training.toy_task import COLOUR_PROMPT

    model = OmniEmotionForConditionalGeneration.from_pretrained(toy["init"]).eval()
    tok = toy["processor"].tokenizer
    mad, red, blue = (tok.convert_tokens_to_ids(c) for c in "mrb")

    def first_token(prompt: str, still: int) -> torch.Tensor:
        sample = dataclasses.replace(
            toy["samples"][still], conversation=(Turn("user", prompt), Turn("assistant", "-"))
        )
        data = PromptDataset(
            [sample], toy["processor"], FeatureCache(toy["processor"], toy["cache"]), system=None
        )
        with torch.no_grad():
            return torch.softmax(model(**data[0]["inputs"], use_cache=False).logits[0, -1], -1)

    p_red, p_blue = first_token("feeling?", 0), first_token("feeling?", 1)  # still 0 is red, still 1 blue
    assert 0.3 < p_red[mad] < 0.7 and abs(p_red[mad] - p_blue[mad]) < 0.02
    assert first_token(COLOUR_PROMPT, 0)[red] > 0.9 and first_token(COLOUR_PROMPT, 1)[blue] > 0.9


@pytest.mark.slow
def test_toy_reward_rises_on_every_seed(toy, tmp_path):
    """36 steps of 4 stills x 8 answers at a constant lr 5e-3, for each of 5 seeds: the EW reward (mean over
    a 6-step window) must rise from about 0.5 (a right guess half of the time) to at least 0.75. Before the
    starting model could see the colour, 3 of 5 seeds stalled at 0.5."""
    ends = {}
    for seed in TOY_SEEDS:
        result = _toy_trainer(
            toy,
            tmp_path / str(seed),
            steps=36,
            seed=seed,
            learning_rate=5e-3,
            min_lr_ratio=1.0,
            micro_batch_size=4,
            log_every=6,
        ).train()
        ew = [round(h["ew"], 3) for h in result.history]
        ends[seed] = ew
        assert len(ew) == 6 and 0.25 <= ew[0] <= 0.75, ew
    assert all(ew[-1] >= 0.75 and ew[-1] >= ew[0] + 0.25 for ew in ends.values()), ends


def test_only_the_llm_moves_kl_and_rewards_are_logged(toy, tmp_path):
    trainer = _toy_trainer(toy, tmp_path, steps=2, log_every=1)
    model = trainer.model
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    result = trainer.train()
    # after rollouts (sampled in eval mode) the frozen encoders are back in eval mode, the LLM in train mode
    assert (
        not model.model.vision.training and not model.model.face.training and not model.model.audio.training
    )
    assert model.model.language_model.training and model.training
    trained = ("model.language_model.", "lm_head.")
    after = dict(model.named_parameters())
    assert all(torch.equal(before[n], after[n]) for n in before if not n.startswith(trained))  # bit for bit
    assert any(not torch.equal(before[n], after[n]) for n in before if n.startswith(trained))
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    assert all(
        {"reward", "ew", "format", "length_excess", "kl", "clip_fraction", "loss"} <= set(r) for r in log
    )
    assert (
        log[0]["kl"] == 0.0 and log[1]["kl"] > 0
    )  # the reference is the start; one update later they differ
    groups = [json.loads(line) for line in (tmp_path / REWARDS_FILE).read_text().splitlines()]
    assert len(groups) == 2 * 4 and len(groups[0]["answers"]) == 8
    answer = groups[0]["answers"][0]
    assert groups[0]["truth"] in (["mad"], ["sad"]) and set(answer) == {
        "text",
        "labels",
        "reward",
        "ew",
        "format",
        "length",
    }
    assert answer["ew"] == group_scores(groups[0]["truth"], [answer["labels"]], TOY_TABLES)[0]
    assert result.steps == 2 and result.samples == 2 * 4 * 8 and math.isfinite(result.kl_end)
    # the output folder is a model the next run (or the engine) loads, frozen parts as they were
    saved = OmniEmotionForConditionalGeneration.from_pretrained(tmp_path)
    assert torch.equal(
        saved.model.vision.projector.linear_1.weight, before["model.vision.projector.linear_1.weight"]
    )
    assert torch.equal(saved.lm_head.weight, model.lm_head.weight)


def test_resume_matches_an_uninterrupted_run(toy, tmp_path):
    """Stopped after checkpoint-2 and resumed (weights from the checkpoint, KL reference still the --init
    model): the same weights and rewards as the run that went straight through."""
    straight = _toy_trainer(toy, tmp_path / "a", steps=4, log_every=1, save_every=2)
    straight.train()
    checkpoint = tmp_path / "a" / "checkpoint-2"
    model = OmniEmotionForConditionalGeneration.from_pretrained(checkpoint)
    reference = OmniEmotionForConditionalGeneration.from_pretrained(toy["init"])
    data = PromptDataset(
        toy["samples"], toy["processor"], FeatureCache(toy["processor"], toy["cache"]), system=None
    )
    resumed = GRPOTrainer(
        model,
        data,
        straight.config,
        straight.rl,
        TOY_TABLES,
        tmp_path / "b",
        tokenizer=toy["processor"].tokenizer,
        reference=reference,
        device="cpu",
        progress=False,
    )
    result = resumed.train(resume=checkpoint)
    assert result.steps == 2 and result.total_steps == 4
    for (name, a), b in zip(straight.model.named_parameters(), resumed.model.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)
    logs = [
        [json.loads(x) for x in (tmp_path / d / "train_log.jsonl").read_text().splitlines()] for d in "ab"
    ]
    assert [r["reward"] for r in logs[1]] == pytest.approx([r["reward"] for r in logs[0][2:]])
    assert [r["kl"] for r in logs[1]] == pytest.approx([r["kl"] for r in logs[0][2:]], abs=1e-6)


def test_lora_trains_adapters_only_and_saves_a_merged_model(toy, tmp_path):
    rl = RLConfig(num_generations=4, max_new_tokens=8, length_free_tokens=6, lora_rank=2)
    trainer = _toy_trainer(toy, tmp_path, steps=2, rl=rl, log_every=1, learning_rate=1e-2)
    names = {n for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert names and all(".lora." in n for n in names)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if n not in names}
    trainer.train()
    assert all(torch.equal(before[n], p) for n, p in trainer.model.named_parameters() if n in before)
    saved = OmniEmotionForConditionalGeneration.from_pretrained(tmp_path)  # plain names, every weight present
    layer = trainer.model.model.language_model.layers[0].self_attn.q_proj
    assert not torch.equal(layer.lora.B, torch.zeros_like(layer.lora.B))  # the adapters moved
    x = torch.randn(3, layer.in_features)
    merged = saved.model.language_model.layers[0].self_attn.q_proj
    torch.testing.assert_close(layer(x), torch.nn.functional.linear(x, merged.weight, merged.bias))
    state = torch.load(tmp_path / "checkpoint-2" / "trainer_state.pt", weights_only=True)
    assert set(state["lora"]) == names and state["rl"]["lora_rank"] == 2
    # resuming starts from the --init model plus the saved adapters and ends where a straight run ends
    straight = _toy_trainer(
        toy, tmp_path / "straight", steps=3, rl=rl, log_every=1, learning_rate=1e-2, save_every=1
    )
    straight.train()
    checkpoint = tmp_path / "straight" / "checkpoint-1"
    resumed = _toy_trainer(toy, tmp_path / "resumed", steps=3, rl=rl, log_every=1, learning_rate=1e-2)
    assert resumed.train(resume=checkpoint).steps == 2
    for (name, x), (_, y) in zip(straight.model.named_parameters(), resumed.model.named_parameters()):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-6, msg=name)
    plain = _toy_trainer(toy, tmp_path / "plain", steps=2)
    with pytest.raises(ConfigError, match=r"without LoRA|with LoRA"):
        plain.train(resume=checkpoint)


@dataclasses.dataclass(frozen=True)
class _BarrierSpy(DistContext):
    """One process that notes, at each barrier, whether the final model is already in ``out``."""

    out: Path = Path()
    seen: list = dataclasses.field(default_factory=list)

    def barrier(self) -> None:
        self.seen.append((self.out / "model.safetensors").is_file())
        super().barrier()


@pytest.mark.parametrize("phase", [3, 4])
def test_every_phase_ends_at_a_barrier_after_the_final_model(toy, tmp_path, phase):
    """Under torchrun the other ranks must not return before rank 0 has written the final model: phases 1-3
    and phase 4 end the same way, with one barrier after the model is saved."""
    spy = _BarrierSpy(out=tmp_path)
    if phase == 4:
        trainer = _toy_trainer(toy, tmp_path, steps=1, dist=spy)
    else:
        data = ManifestDataset(
            toy["samples"][:2], toy["processor"], FeatureCache(toy["processor"], toy["cache"]), system=None
        )
        config = phase_config(
            3, batch_size=2, micro_batch_size=2, max_steps=1, precision="fp32", num_frames=1
        )
        model = OmniEmotionForConditionalGeneration.from_pretrained(toy["init"])
        trainer = Trainer(model, data, data.collate, config, tmp_path, device="cpu", progress=False, dist=spy)
    trainer.train()
    assert spy.seen == [True]


def test_phase_4_defaults():
    config = phase_config(4)
    assert (config.learning_rate, config.batch_size, config.epochs, config.trainable) == (
        1e-6,
        16,
        1.0,
        ("llm",),
    )
    rl = RLConfig()
    assert (rl.num_generations, rl.grouping, rl.extractor, rl.kl_beta, rl.lora_rank) == (
        8,
        "M-avg",
        "list",
        0.04,
        0,
    )


# -- the command line ----------------------------------------------------------------------------------------


def test_cli_phase4_from_a_phase3_folder_to_one_the_engine_loads(toy, tmp_path, capsys):
    wheels = write_tables(
        tmp_path / "wheels"
    )  # the benchmark's seven-file layout: mad and angry group together
    samples = [
        dataclasses.replace(s, labels=("angry",) if s.labels == ("mad",) else ("calm",))
        for s in toy["samples"][:4]
    ]
    manifest = tmp_path / "m.jsonl"
    write_manifest(samples, manifest)
    out = tmp_path / "phase4"
    common = [
        "train",
        "--phase",
        "4",
        "--data",
        str(manifest),
        "--init",
        str(toy["init"]),
        "--out",
        str(out),
        "--batch-size",
        "2",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--cache",
        str(tmp_path / "cache"),
        "--num-frames",
        "1",
        "--generations",
        "4",
        "--max-new-tokens",
        "8",
        "--length-free-tokens",
        "6",
        "--wheels",
        str(wheels),
        "--lr",
        "1e-3",
        "--log-every",
        "1",
    ]
    assert main(common + ["--max-steps", "1", "--save-every", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert (
        lines[0].startswith("phase 4: 4 clips, 1 steps of 2 clips x 4 answers") and "reward M-avg" in lines[0]
    )
    summary = json.loads(lines[-1])
    assert summary["steps"] == 1 and {"reward_start", "reward_end", "kl_end"} <= set(summary)
    assert omni_missing_files(out) == []
    from omni_emotion.engines.omni import OmniEngine

    engine = OmniEngine.load(out, device="cpu")
    assert engine.processor.config.num_frames == 1
    assert main(common + ["--resume", "auto"]) == 0  # continues to the full 2 steps from checkpoint-1
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["steps"] == 1


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--generations", "4"], "--generations only applies to --phase 4"),
        (["--phase4-nothing"], "unrecognized"),
    ],
)
def test_cli_phase4_options_need_phase_4(toy, tmp_path, capsys, extra, needle):
    manifest = tmp_path / "m.jsonl"
    write_manifest(toy["samples"][:1], manifest)
    args = [
        "train",
        "--phase",
        "3",
        "--data",
        str(manifest),
        "--init",
        str(toy["init"]),
        "--out",
        str(tmp_path / "o"),
        *extra,
    ]
    if needle == "unrecognized":
        with pytest.raises(SystemExit):
            main(args)
    else:
        assert main(args) == 2
    assert needle in capsys.readouterr().err


def test_cli_phase4_needs_labels_on_every_clip(toy, tmp_path, capsys):
    manifest = tmp_path / "m.jsonl"
    write_manifest([dataclasses.replace(s, labels=()) for s in toy["samples"][:2]], manifest)
    wheels = write_tables(tmp_path / "wheels")
    args = [
        "train",
        "--phase",
        "4",
        "--data",
        str(manifest),
        "--init",
        str(toy["init"]),
        "--out",
        str(tmp_path / "o"),
        "--wheels",
        str(wheels),
        "--device",
        "cpu",
        "--cache",
        str(tmp_path / "cache"),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("omni-emotion: error: sample 'c0' (line 1) has no 'labels'")
        and "--format openset" in err
        and "\n" not in err
    )

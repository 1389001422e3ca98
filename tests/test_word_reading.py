"""The words reader: its math on made-up readers, its committed file, and its place in the textual clues."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from omni_emotion.engines.word_reading import (
    CLASS_FAMILY,
    MODEL_PATH,
    WORD_FAMILIES,
    LinearReader,
    WordsModel,
    chinese_ngrams,
    load_words_model,
    read_words,
    tempered_softmax,
)
from omni_emotion.lexicon import FAMILIES

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MER = SHARED / "data" / "mer2023_text"
CLASSES = tuple(CLASS_FAMILY)
K = len(CLASSES)


def _model(
    coef_en: np.ndarray,
    coef_zh: np.ndarray | None = None,
    vocab: tuple[str, ...] = (),
    temperature: float = 1.0,
    prior: np.ndarray | None = None,
) -> WordsModel:
    readers = {"en": LinearReader(coef_en, np.zeros(K), temperature, {}, np.zeros(0), 1.0)}
    if coef_zh is not None:
        readers["zh+en"] = LinearReader(
            coef_zh, np.zeros(K), temperature, {g: j for j, g in enumerate(vocab)}, np.ones(len(vocab)), 1.0
        )
    prior = np.full(K, 1.0 / K) if prior is None else prior
    return WordsModel(CLASSES, prior, readers, "0" * 64)


def test_classes_map_to_lexicon_families():
    assert set(WORD_FAMILIES) <= set(FAMILIES)
    assert (
        CLASS_FAMILY["worried"] == "fear" and CLASS_FAMILY["happy"] == "joy" and len(set(WORD_FAMILIES)) == K
    )


def test_tempered_softmax_by_hand():
    p = tempered_softmax(np.array([np.log(3.0), 0.0]), 1.0)
    assert p == pytest.approx([0.75, 0.25])
    p2 = tempered_softmax(np.array([np.log(3.0), 0.0]), 2.0)  # 3**0.5 : 1
    assert p2 == pytest.approx([np.sqrt(3) / (1 + np.sqrt(3)), 1 / (1 + np.sqrt(3))])
    with pytest.raises(ValueError, match="positive"):
        tempered_softmax(np.zeros(3), 0.0)


@settings(max_examples=60, deadline=None)
@given(
    logits=arrays(np.float64, (K,), elements=st.floats(-50, 50)),
    t=st.floats(0.05, 20.0),
    t2=st.floats(0.05, 20.0),
)
def test_tempered_softmax_properties(logits, t, t2):
    p = tempered_softmax(logits, t)
    assert p.sum() == pytest.approx(1.0) and (p >= 0).all()
    assert p.argmax() == np.argmax(logits) or np.isclose(logits.max(), logits[p.argmax()])
    # a hotter temperature never makes the top class more certain
    if t2 > t:
        assert tempered_softmax(logits, t2).max() <= p.max() + 1e-12


def test_chinese_ngrams_are_characters_and_pairs():
    assert chinese_ngrams("我很 高兴") == ["我", "很", " ", "高", "兴", "我很", "很 ", " 高", "高兴"]
    assert chinese_ngrams("  ") == []


@settings(max_examples=40, deadline=None)
@given(
    emb=arrays(np.float64, (4,), elements=st.floats(-1, 1)),
    coef=arrays(np.float64, (K, 4), elements=st.floats(-5, 5)),
    prior=arrays(np.float64, (K,), elements=st.floats(0.01, 1.0)),
)
def test_reading_is_a_distribution_over_the_six_families(emb, coef, prior):
    reading = read_words(_model(coef, prior=prior / prior.sum()), emb, "so what now")
    assert tuple(reading.families) == WORD_FAMILIES and reading.source == "en" and reading.n_words == 3
    assert sum(reading.families.values()) == pytest.approx(1.0)
    assert sum(reading.likelihood.values()) == pytest.approx(1.0)
    # the likelihood is the posterior with the prior divided out
    ratio = {f: reading.families[f] / reading.prior[f] for f in WORD_FAMILIES}
    top = max(ratio, key=ratio.get)
    assert max(reading.likelihood, key=reading.likelihood.get) == top or np.isclose(
        reading.likelihood[top], max(reading.likelihood.values())
    )


def test_chinese_text_goes_through_its_own_features():
    """A reader whose only signal is the n-gram 哭 (cry): the Chinese reader finds sadness, English alone not."""
    coef_en = np.zeros((K, 2))
    coef_zh = np.zeros((K, 1 + 2))
    coef_zh[CLASSES.index("sad"), 0] = 4.0
    model = _model(coef_en, coef_zh, vocab=("哭",))
    emb = np.array([0.6, 0.8])
    zh = read_words(model, emb, "She cried.", chinese="她哭了")
    en = read_words(model, emb, "She cried.")
    assert zh.source == "zh+en" and en.source == "en"
    assert zh.top[0] == "sadness" and zh.families["sadness"] > 0.9
    assert en.families["sadness"] == pytest.approx(1.0 / K)
    unseen = read_words(model, emb, "Fine.", chinese="好的")  # no known n-gram: zero features, flat
    assert unseen.families["sadness"] == pytest.approx(1.0 / K)


def test_committed_reader_file_is_small_and_loads():
    assert MODEL_PATH.stat().st_size < 200 * 1024
    model = load_words_model()
    assert model.classes == CLASSES and set(model.readers) == {"en", "zh+en"}
    assert model.prior.sum() == pytest.approx(1.0, abs=1e-4)
    for name, reader in model.readers.items():
        assert reader.temperature > 0 and reader.coef.shape[0] == K
        assert reader.coef.shape[1] == len(reader.vocabulary) + 384, name
    raw = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    if MER.exists():
        assert raw["train_sha256"] == hashlib.sha256((MER / "train.csv").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def text_models():
    from omni_emotion.engines.clue_textual import TextModels
    from omni_emotion.errors import ModelNotFoundError

    try:
        return TextModels()
    except ModelNotFoundError as err:
        pytest.skip(str(err))


def test_textual_clues_fill_the_reading(text_models):
    from omni_emotion.engines.clue_textual import textual_clues
    from omni_emotion.types import Segment, Transcript

    angry = textual_clues(
        Transcript("Get out! I never want to see you again, you liar!", "en", 0.99, [Segment(0.0, 2.0, "x")]),
        text_models,
    )
    assert angry.reading is not None and angry.reading.source == "en" and angry.reading.n_words == 11
    assert angry.reading.top[0] == "anger"
    zh = textual_clues(
        Transcript("我真的好难过，他走了。", "zh", 0.99, [], translation="I'm really sad, he left."),
        text_models,
    )
    assert zh.reading is not None and zh.reading.source == "zh+en"
    assert zh.reading.top[0] == "sadness"
    nothing = textual_clues(Transcript("", "en"), text_models)
    assert nothing.reading is None


@pytest.mark.skipif(not MER.exists(), reason="needs ../shared/data/mer2023_text (MER2023 subtitles)")
def test_fit_is_deterministic_on_a_slice():
    """The fit's steps repeat exactly; the full refit (minutes) is `python bench/fit_words.py --check`."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import fit_words

    _english, chinese, y = fit_words.read_split(MER, "train")
    rng = np.random.default_rng(0)  # stand-in embeddings: the encoder's repeatability is torch's business
    emb = rng.normal(size=(400, 384))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    runs = [fit_words.out_of_fold_logits("zh+en", 1.0, 0.5, emb, chinese[:400], y[:400]) for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])
    t = fit_words.fit_temperature(runs[0], y[:400])
    assert t == fit_words.fit_temperature(runs[1], y[:400]) and t > 0

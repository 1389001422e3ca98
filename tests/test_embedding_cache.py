"""The on-disk cache of fixed sentence embeddings: the same values back, a new file for new texts or model."""

from __future__ import annotations

import numpy as np

from omni_emotion.engines.embedding_cache import cached_embeddings, embeddings_key


def _encoder(calls: list[list[str]]):
    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        rng = np.random.default_rng(len(texts))
        return rng.standard_normal((len(texts), 4))  # float64: stored as float32

    return encode


def test_second_call_reads_the_same_vectors_without_encoding(tmp_path):
    calls: list[list[str]] = []
    first = cached_embeddings(("m", "1"), ["a", "b"], _encoder(calls), folder=tmp_path)
    second = cached_embeddings(("m", "1"), ["a", "b"], _encoder(calls), folder=tmp_path)
    assert len(calls) == 1 and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert [p.suffix for p in tmp_path.iterdir()] == [".npy"]  # no temporary file left behind


def test_other_texts_or_model_are_encoded_again(tmp_path):
    calls: list[list[str]] = []
    cached_embeddings(("m", "1"), ["a", "b"], _encoder(calls), folder=tmp_path)
    cached_embeddings(("m", "2"), ["a", "b"], _encoder(calls), folder=tmp_path)
    cached_embeddings(("m", "1"), ["b", "a"], _encoder(calls), folder=tmp_path)
    assert len(calls) == 3
    assert embeddings_key(("m",), ["ab"]) != embeddings_key(("m", "ab"), [])


def test_a_damaged_or_misfit_file_is_replaced(tmp_path):
    calls: list[list[str]] = []
    path = tmp_path / f"{embeddings_key(('m',), ['a', 'b'])}.npy"
    path.write_bytes(b"not numpy")
    cached_embeddings(("m",), ["a", "b"], _encoder(calls), folder=tmp_path)
    np.save(path, np.zeros((3, 4), np.float32))
    out = cached_embeddings(("m",), ["a", "b"], _encoder(calls), folder=tmp_path)
    assert len(calls) == 2 and out.shape == (2, 4)


def test_an_unwritable_cache_only_costs_the_encoding(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = cached_embeddings(("m",), ["a"], _encoder([]), folder=blocker / "sub")
    assert out.shape == (1, 4)

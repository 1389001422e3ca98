"""Fit the words reader (omni_emotion/engines/word_reading.py) on MER2023's training subtitles and report it.

    PYTHONPATH=$PWD python bench/fit_words.py [--data ../shared/data/mer2023_text] [--out PATH] [--check]

Steps, all on train.csv only (the test splits are only scored):
1. Features: the all-MiniLM-L6-v2 embedding of the English subtitle (as the textual clues compute it, one
   torch thread so the numbers repeat exactly), and character 1-2-grams of the Chinese subtitle (sublinear
   tf-idf, the MAX_NGRAMS most frequent in train).
2. Model selection by stratified 5-fold cross-validation (fixed seed): multinomial logistic regression
   (lbfgs, deterministic), C and the embedding's weight beside the n-grams chosen by mean held-out log-loss,
   separately for the English-only reader ("en") and the Chinese reader ("zh+en").
3. Temperature: fitted on the held-out folds' logits of the chosen setting (never on a test split).
4. The final reader is fitted on all of train.csv and written, rounded, as JSON with train.csv's sha256.
5. Report per test split, from the written file: accuracy, macro-F1 and ECE (10 equal-width bins of the
   top probability), beside the majority class (neutral) and the plain baseline of issue 28 (MiniLM
   embeddings + LogisticRegression(C=1, class_weight="balanced")).
--check refits and compares with the committed file instead of writing it (exit 1 if they differ).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import sys
from pathlib import Path

import numpy as np
from common import SHARED_DATA

from omni_emotion.engines.word_reading import (
    CLASS_FAMILY,
    MODEL_PATH,
    chinese_ngrams,
    load_words_model,
    read_words,
)

CLASSES = ("neutral", "angry", "happy", "sad", "worried", "surprise")
SEED = 0
FOLDS = 5
MAX_NGRAMS = 2000  # keeps the committed file under 200 KB; 7,620 n-grams occur twice or more
GRID = {  # reader -> candidate (C, embedding weight beside the n-grams)
    "en": [(0.3, 1.0), (1.0, 1.0), (3.0, 1.0)],
    "zh+en": [(1.0, 0.5), (1.0, 1.0), (3.0, 0.5)],
}
DECIMALS = 5  # coefficients; a change below 1e-5 moves no probability by more than about 1e-4
SPLITS = ("test1", "test2", "test3")
BASELINE = {"test1": 43.6, "test2": 37.1, "test3": 39.4}  # issue 28's figures for the plain baseline


def read_split(data: Path, split: str) -> tuple[list[str], list[str], np.ndarray]:
    with open(data / f"{split}.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return (
        [r["english"] for r in rows],
        [r["chinese"] for r in rows],
        np.array([CLASSES.index(r["emotion"]) for r in rows]),
    )


class Embedder:
    """(N, 384) float64 embeddings exactly as the engine's TextModels.encode gives them, on one thread (so
    they repeat bit for bit); kept in ``cache`` (a folder outside the repository) by the texts' checksum."""

    def __init__(self, cache: Path | None = None) -> None:
        self.cache, self.models = cache, None

    def __call__(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
        if self.cache is not None and (self.cache / f"{key}.npy").exists():
            return np.load(self.cache / f"{key}.npy")
        if self.models is None:
            import torch

            from omni_emotion.engines.clue_textual import TextModels

            torch.set_num_threads(1)
            self.models = TextModels()
        emb = self.models.encode(texts).astype(np.float64)
        if self.cache is not None:
            self.cache.mkdir(parents=True, exist_ok=True)
            np.save(self.cache / f"{key}.npy", emb)
        return emb


def vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=chinese_ngrams, sublinear_tf=True, max_features=MAX_NGRAMS)


def design(reader: str, weight: float, emb: np.ndarray, chinese: list[str], vec):
    """(N, F) features: the embedding, or (sparse) the n-grams' tf-idf then weight * the embedding."""
    from scipy.sparse import csr_matrix, hstack

    if reader == "en":
        return emb
    return hstack([vec.transform(chinese), csr_matrix(weight * emb)]).tocsr()


def fit_lr(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, solver="lbfgs", max_iter=5000, tol=1e-6).fit(x, y)


def out_of_fold_logits(
    reader: str, c: float, w: float, emb: np.ndarray, chinese: list[str], y: np.ndarray
) -> np.ndarray:
    """(N, K) logits of each training line from the model fitted on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    logits = np.zeros((len(y), len(CLASSES)))
    for fit_idx, held_idx in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(emb, y):
        vec = vectorizer().fit([chinese[i] for i in fit_idx]) if reader != "en" else None
        model = fit_lr(design(reader, w, emb[fit_idx], [chinese[i] for i in fit_idx], vec), y[fit_idx], c)
        logits[held_idx] = model.decision_function(
            design(reader, w, emb[held_idx], [chinese[i] for i in held_idx], vec)
        )
    return logits


def nll(logits: np.ndarray, y: np.ndarray, t: float = 1.0) -> float:
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y]))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(
        lambda lt: nll(logits, y, float(np.exp(lt))),
        bounds=(-3.0, 3.0),
        method="bounded",
        options={"xatol": 1e-8},
    )
    return round(float(np.exp(res.x)), 4)


def ece(prob: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top probability, equal-width bins (Guo et al. 2017)."""
    conf, pred = prob.max(axis=1), prob.argmax(axis=1)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs((pred[m] == y[m]).mean() - conf[m].mean())
    return float(total)


def fit(data: Path, embed: Embedder) -> tuple[dict, dict]:
    """The reader file's content and the selection log, from train.csv alone."""
    english, chinese, y = read_split(data, "train")
    emb = embed(english)
    readers, log = {}, {}
    for reader, grid in GRID.items():
        scores = {}
        for c, w in grid:
            scores[(c, w)] = nll(out_of_fold_logits(reader, c, w, emb, chinese, y), y)
            print(f"  cv {reader:6s} C={c:<4} w={w:<4} log-loss {scores[(c, w)]:.4f}", flush=True)
        c, w = min(scores, key=scores.get)
        t = fit_temperature(out_of_fold_logits(reader, c, w, emb, chinese, y), y)
        vec = vectorizer().fit(chinese) if reader != "en" else None
        model = fit_lr(design(reader, w, emb, chinese, vec), y, c)
        entry = {
            "C": c,
            "embedding_weight": w,
            "temperature": t,
            "coef": np.round(model.coef_, DECIMALS).tolist(),
            "intercept": np.round(model.intercept_, DECIMALS).tolist(),
        }
        if vec is not None:
            entry["vocabulary"] = vec.get_feature_names_out().tolist()
            entry["idf"] = np.round(vec.idf_, DECIMALS).tolist()
        readers[reader] = entry
        log[reader] = {"C": c, "w": w, "temperature": t, "cv_logloss": scores[(c, w)]}
    prior = np.bincount(y, minlength=len(CLASSES)) / len(y)
    content = {
        "about": "Words reader of omni_emotion/engines/word_reading.py, written by bench/fit_words.py. "
        "Multinomial logistic regression on MER2023 train.csv: 'en' reads the all-MiniLM-L6-v2 "
        "embedding (384, unit norm) of the English text; 'zh+en' reads character 1-2-gram "
        "sublinear tf-idf of the Chinese text (vocabulary, idf, l2-normalised) then "
        "embedding_weight * the embedding. probabilities = softmax((coef @ x + intercept) / "
        "temperature); temperature fitted on held-out folds of train.csv.",
        "classes": list(CLASSES),
        "prior": np.round(prior, DECIMALS).tolist(),
        "train_sha256": hashlib.sha256((data / "train.csv").read_bytes()).hexdigest(),
        "readers": readers,
    }
    return content, log


def dumps(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def report(data: Path, path: Path, embed: Embedder) -> list[dict]:
    """Per split: the reader from ``path`` (both sources where Chinese is read) beside the floors."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    model = load_words_model(path)
    english, _, y_train = read_split(data, "train")
    emb_train = embed(english)
    plain = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000).fit(emb_train, y_train)
    rows = []
    for split in SPLITS:
        english, chinese, y = read_split(data, split)
        emb = embed(english)
        row = {
            "split": split,
            "n": len(y),
            "majority": 100 * float(np.mean(y == 0)),
            "plain": 100 * accuracy_score(y, plain.predict(emb)),
            "plain_given": BASELINE[split],
        }
        for source, zh in (("en", [""] * len(y)), ("zh+en", chinese)):
            readings = [read_words(model, e, t, c) for e, t, c in zip(emb, english, zh)]
            prob = np.array([[r.families[CLASS_FAMILY[c]] for c in CLASSES] for r in readings])
            pred = prob.argmax(axis=1)
            flat = np.array([[r.likelihood[CLASS_FAMILY[c]] for c in CLASSES] for r in readings]).argmax(
                axis=1
            )
            row[source] = {
                "acc": 100 * accuracy_score(y, pred),
                "f1": 100 * f1_score(y, pred, average="macro"),
                "ece": 100 * ece(prob, y),
                "acc_flat": 100 * accuracy_score(y, flat),
                "f1_flat": 100 * f1_score(y, flat, average="macro"),
            }
        rows.append(row)
    print(
        "\n| split | n | majority | plain baseline (issue / here) | reader | accuracy | macro-F1 | ECE |"
        " accuracy, flat prior | macro-F1, flat prior |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        for source in ("en", "zh+en"):
            s = r[source]
            print(
                f"| {r['split']} | {r['n']} | {r['majority']:.1f} | {r['plain_given']:.1f} / {r['plain']:.1f} | "
                f"{source} | {s['acc']:.1f} | {s['f1']:.1f} | {s['ece']:.1f} | {s['acc_flat']:.1f} | "
                f"{s['f1_flat']:.1f} |"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "mer2023_text")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    ap.add_argument("--no-report", action="store_true")
    ap.add_argument("--cache", type=Path, help="folder (outside the repository) to keep embeddings in")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one BLAS thread: the same sums in the same order on any machine, and no contention
    embed = Embedder(args.cache)
    content, log = fit(args.data, embed)
    print(json.dumps(log, indent=1))
    text = dumps(content)
    if args.check:
        same = args.out.read_text(encoding="utf-8") == text
        print("identical to" if same else "DIFFERENT from", args.out)
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(text.encode()) / 1024:.0f} KiB)")
    if not args.no_report:
        report(args.data, args.out, embed)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How far the words reader can be trusted on speech: simulated ASR errors, and Whisper's transcripts.

    PYTHONPATH=$PWD python bench/words_asr.py noise [--split test1] [--rates 0 0.1 0.2 0.3]
    PYTHONPATH=$PWD python bench/words_asr.py clips [--emodb 12]

noise: scores a MER2023 split with made-up recognition errors: each English word (each Chinese character)
  is dropped with probability rate/2 and replaced by a random word (character) of train.csv with
  probability rate/2, seeded. Prints accuracy, macro-F1, ECE and mean top probability per rate and reader.
clips: runs the project's speech analyzer (Silero VAD + offline faster-whisper from PyPI, translation of
  non-English speech) on the shared media clips and on EMO-DB speaker 03 files, then prints what the words
  reader says and how sure it is. EMO-DB's sentences are emotionally neutral by design: the words there
  should stay near the prior whatever the actor felt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA, SHARED_MEDIA
from bench.fit_words import CLASSES, Embedder, ece, read_split
from omni_emotion.engines.word_reading import CLASS_FAMILY, load_words_model, read_words

EMODB_LABELS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}


def corrupt(tokens: list[str], pool: list[str], rate: float, rng: np.random.Generator) -> list[str]:
    out = []
    for tok in tokens:
        u = rng.random()
        if u < rate / 2:
            continue
        out.append(pool[rng.integers(len(pool))] if u < rate else tok)
    return out


def noise(split: str, rates: list[float]) -> None:
    from sklearn.metrics import accuracy_score, f1_score

    data = SHARED_DATA / "mer2023_text"
    model = load_words_model()
    english_train, chinese_train, _ = read_split(data, "train")
    word_pool = [w for t in english_train for w in t.split()]
    char_pool = [c for t in chinese_train for c in t if not c.isspace()]
    english, chinese, y = read_split(data, split)
    embed = Embedder()
    print(f"| {split} rate | reader | accuracy | macro-F1 | ECE | mean top p |\n|---|---|---|---|---|---|")
    for rate in rates:
        rng = np.random.default_rng(0)
        en = [" ".join(corrupt(t.split(), word_pool, rate, rng)) for t in english]
        zh = ["".join(corrupt(list(t), char_pool, rate, rng)) for t in chinese]
        emb = embed(en)
        for source, texts in (("en", [""] * len(y)), ("zh+en", zh)):
            prob = np.array(
                [
                    [r.families[CLASS_FAMILY[c]] for c in CLASSES]
                    for r in (read_words(model, e, t, c) for e, t, c in zip(emb, en, texts))
                ]
            )
            pred = prob.argmax(axis=1)
            print(
                f"| {rate:.1f} | {source} | {100 * accuracy_score(y, pred):.1f} | "
                f"{100 * f1_score(y, pred, average='macro'):.1f} | {100 * ece(prob, y):.1f} | "
                f"{prob.max(axis=1).mean():.2f} |",
                flush=True,
            )


def clips(n_emodb: int) -> None:
    from omni_emotion.engines.clue_textual import TextModels, textual_clues
    from omni_emotion.media import load_audio
    from omni_emotion.speech import load_speech_analyzer

    speech = load_speech_analyzer()
    models = TextModels()
    files = [p for p in sorted(SHARED_MEDIA.iterdir()) if p.suffix in (".mp4", ".mov")]
    files += sorted((SHARED_DATA / "dev" / "emodb-speaker03").glob("*.wav"))[:n_emodb]
    print(
        "| file | label | language | words (translation) | words read as | p | n words |\n"
        "|---|---|---|---|---|---|---|"
    )
    for path in files:
        try:
            audio = load_audio(path)
        except Exception as err:  # a clip without an audio track
            print(f"| {path.name} | | no audio ({type(err).__name__}) | | | | |")
            continue
        transcript, _ = speech.analyze(audio)
        clues = textual_clues(transcript, models)
        label = EMODB_LABELS.get(path.stem[-2], "") if path.stem.startswith("emodb_") else ""
        said = transcript.display.replace("|", "/") or "(nothing)"
        if clues.reading is None:
            print(f"| {path.name} | {label} | {transcript.language} | {said} | - | - | 0 |")
            continue
        family, p = clues.reading.top
        print(
            f"| {path.name} | {label} | {transcript.language} | {said} | {family} ({clues.reading.source}) | "
            f"{p:.2f} | {clues.reading.n_words} |",
            flush=True,
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    a = sub.add_parser("noise")
    a.add_argument("--split", default="test1")
    a.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3])
    b = sub.add_parser("clips")
    b.add_argument("--emodb", type=int, default=12, help="how many EMO-DB speaker 03 files")
    args = ap.parse_args()
    if args.what == "noise":
        noise(args.split, args.rates)
    else:
        clips(args.emodb)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fits the learned voice reading (omni_emotion/engines/data/voice_model.json) and reports it leave-one-speaker-out.

    .venv/bin/python bench/fit_voice.py [--data ../shared/data/dev/emodb-5speakers] [--out PATH] [--report-only]

What it does, so that every number the voice model holds comes from here:
1. Features: every recording goes through the engine's own path (resampled to 16 kHz, Silero VAD speech
   regions, openSMILE eGeMAPSv02 functionals of the speech: speech/voice.py), cached under bench/out by the
   data's checksum.
2. Two views (engines/voice_model.py): "single" (level-free functionals, pooled standardisation) and
   "speaker" (every functional minus the speaker's median, then pooled standardisation). Each is the field's
   plain baseline, a multinomial logistic regression on standardised eGeMAPS functionals with C = 0.1, the
   setting of the baseline the team measured; nothing else is tuned.
3. Calibration: a temperature per view, fitted (minimum negative log-likelihood) on the out-of-fold logits of
   leave-one-speaker-out; the OOD distance is the 95th percentile of the held-out speakers' RMS z-distances;
   the ratio floor is the 1st percentile of the likelihood ratio the held-out utterances' true family got (the
   model was rarely that wrong, so no reading may rule a family out further).
4. Report, one row per held-out speaker, with models fitted on the other four: accuracy, ECE, and the EW
   scores (L1-avg, M-avg) of the engine's own decision rule on the voice alone (prior x voice likelihood ->
   expected-score label set, engines/decision.py) beside that fold's floor (its best constant answer).
   Then a reliability table of the pooled held-out probabilities.
The output is deterministic: a second run on the same data writes the same bytes (numbers are rounded to
10 significant digits so that the last bits of BLAS do not show).
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED_DATA

FAMILY_OF = {
    "angry": "anger",
    "bored": "boredom",
    "disgusted": "disgust",
    "fearful": "fear",
    "happy": "joy",
    "neutral": "neutral",
    "sad": "sadness",
}
C = 0.1
LEVEL_PREFIXES = ("loudness_sma3_", "equivalentSoundLevel")
OOD_QUANTILE = 95
FLOOR_QUANTILE = 1  # the true family's likelihood ratio fell below the floor on 1% of held-out utterances
ECE_BINS = 10


def data_checksum(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.wav")) + [folder / "gt.csv"]:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def extract(folder: Path, cache: Path) -> dict:
    """{name: {"family", "speaker", "functionals"}} plus the feature names, computed once per data checksum."""
    checksum = data_checksum(folder)
    if cache.is_file():
        cached = json.loads(cache.read_text())
        if cached.get("checksum") == checksum:
            return cached
    import soundfile as sf
    from tqdm import tqdm

    from omni_emotion.speech.analyzer import prepare_audio
    from omni_emotion.speech.vad import SileroVad
    from omni_emotion.speech.voice import VoiceMeter

    vad, meter = SileroVad(), VoiceMeter()
    rows = list(csv.DictReader((folder / "gt.csv").open(encoding="utf-8")))
    items, skipped = {}, []
    for row in tqdm(rows, desc="eGeMAPS", file=sys.stderr, disable=not sys.stderr.isatty()):
        audio, rate = sf.read(folder / f"{row['name']}.wav", dtype="float32")
        audio = prepare_audio(audio, rate)
        regions = vad.regions(audio)
        profile = meter.measure(audio, regions)
        if profile is None:
            skipped.append(row["name"])
            continue
        label = ast.literal_eval(row["openset"])[0]
        items[row["name"]] = {
            "family": FAMILY_OF[label],
            "label": label,
            "speaker": row["name"].split("_")[1][:2],
            "speech_s": float(sum(end - start for start, end in regions)),
            "functionals": list(profile.functionals),
        }
    out = {
        "checksum": checksum,
        "feature_names": list(meter.feature_names),
        "items": items,
        "skipped": skipped,
    }
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(out))
    return out


def speaker_centred(x: np.ndarray, speakers: np.ndarray) -> np.ndarray:
    out = x.copy()
    for s in np.unique(speakers):
        out[speakers == s] -= np.median(x[speakers == s], axis=0)
    return out


def fit_linear(x: np.ndarray, y: np.ndarray, families: list[str]) -> dict:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=C, max_iter=10_000).fit((x - mean) / scale, y)
    order = [list(clf.classes_).index(f) for f in families]
    return {"mean": mean, "scale": scale, "coef": clf.coef_[order], "intercept": clf.intercept_[order]}


def logits_of(model: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = (x - model["mean"]) / model["scale"]
    return z @ model["coef"].T + model["intercept"], np.sqrt(np.mean(z**2, axis=1))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y_index: np.ndarray) -> float:
    from scipy.optimize import minimize_scalar

    def nll(t: float) -> float:
        p = softmax(logits / t)
        return float(-np.mean(np.log(p[np.arange(len(y_index)), y_index] + 1e-12)))

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


def reliability(p: np.ndarray, y_index: np.ndarray) -> tuple[float, list[tuple[float, float, float, int]]]:
    """ECE and rows (bin upper edge, mean confidence, accuracy, count) of the top-class probability."""
    conf, pred = p.max(axis=1), p.argmax(axis=1)
    rows, ece = [], 0.0
    for b in range(ECE_BINS):
        inside = (conf > b / ECE_BINS) & (conf <= (b + 1) / ECE_BINS)
        if inside.any():
            acc = float((pred[inside] == y_index[inside]).mean())
            ece += inside.mean() * abs(acc - float(conf[inside].mean()))
            rows.append(((b + 1) / ECE_BINS, float(conf[inside].mean()), acc, int(inside.sum())))
    return float(ece), rows


def view_columns(names: list[str], view: str) -> list[int]:
    if view == "speaker":
        return list(range(len(names)))
    return [i for i, n in enumerate(names) if not (n.startswith(LEVEL_PREFIXES) and "stddevNorm" not in n)]


def loso(x: np.ndarray, y: np.ndarray, speakers: np.ndarray, families: list[str]) -> dict:
    """Out-of-fold logits and distances: each speaker scored by a model fitted on the others."""
    logits = np.zeros((len(y), len(families)))
    distance = np.zeros(len(y))
    for s in np.unique(speakers):
        held = speakers == s
        model = fit_linear(x[~held], y[~held], families)
        logits[held], distance[held] = logits_of(model, x[held])
    return {"logits": logits, "distance": distance}


def rounded(a: np.ndarray | float) -> list | float:
    """Numbers to 10 significant digits, nested like ``a``."""
    if np.ndim(a):
        return [rounded(v) for v in np.asarray(a)]
    return float(f"{float(a):.10g}")


def fit(data: dict) -> tuple[dict, dict]:
    names = data["feature_names"]
    items = data["items"]
    keys = sorted(items)
    x_all = np.nan_to_num(np.array([items[k]["functionals"] for k in keys], dtype=np.float64))
    y = np.array([items[k]["family"] for k in keys])
    speakers = np.array([items[k]["speaker"] for k in keys])
    families = sorted(set(y))
    y_index = np.array([families.index(v) for v in y])
    views, held_out = {}, {}
    for view in ("single", "speaker"):
        cols = view_columns(names, view)
        x = x_all[:, cols]
        if view == "speaker":
            x = speaker_centred(x, speakers)
        oof = loso(x, y, speakers, families)
        temperature = fit_temperature(oof["logits"], y_index)
        p_true = softmax(oof["logits"] / temperature)[np.arange(len(y)), y_index]
        share_true = np.array([np.mean(y == f) for f in families])[y_index]
        ratio_floor = float(np.percentile(p_true / share_true, FLOOR_QUANTILE))
        model = fit_linear(x, y, families)
        views[view] = {
            "columns": cols,
            "mean": rounded(model["mean"]),
            "scale": rounded(model["scale"]),
            "coef": rounded(model["coef"]),
            "intercept": rounded(model["intercept"]),
            "temperature": rounded(temperature),
            "ratio_floor": rounded(ratio_floor),
            "ood_distance": rounded(float(np.percentile(oof["distance"], OOD_QUANTILE))),
        }
        held_out[view] = oof
    share = {f: rounded(float(np.mean(y == f))) for f in families}
    out = {
        "families": families,
        "feature_names": names,
        "train_share": share,
        "views": views,
        "source": {
            "data": f"dev/emodb-5speakers sha256 {data['checksum']}",
            "n": str(len(keys)),
            "skipped (too little voiced speech)": ",".join(data["skipped"]) or "none",
        },
    }
    return out, {
        "keys": keys,
        "y": y,
        "speakers": speakers,
        "families": families,
        "held_out": held_out,
        "labels": [items[k]["label"] for k in keys],
        "speech_s": [items[k]["speech_s"] for k in keys],
    }


def held_out_full_length(data: dict, full: dict, model_json: dict, wheels: Path) -> None:
    """The single view fitted without a speaker, on that speaker's full-length recordings (the engine meets
    whole utterances, the fit saw 2 s copies)."""
    from omni_emotion.engines.decision import load_decision_tables
    from omni_emotion.engines.fusion import voice_only_labels
    from omni_emotion.engines.voice_model import VoiceEvidence
    from omni_emotion.evaluation.floor import floor_of
    from omni_emotion.evaluation.metrics import score_dataset
    from omni_emotion.evaluation.wheels import load_wheels

    speakers = {item["speaker"] for item in full["items"].values()}
    spec = model_json["views"]["single"]
    cols = spec["columns"]
    families = model_json["families"]
    share = np.array([model_json["train_share"][f] for f in families])
    train = [k for k, item in data["items"].items() if item["speaker"] not in speakers]
    x = np.nan_to_num(np.array([data["items"][k]["functionals"] for k in train]))[:, cols]
    model = fit_linear(x, np.array([data["items"][k]["family"] for k in train]), families)
    names = sorted(full["items"])
    logits, distance = logits_of(
        model, np.nan_to_num(np.array([full["items"][k]["functionals"] for k in names]))[:, cols]
    )
    p = softmax(logits / spec["temperature"])
    truth, pred = {}, {}
    for i, name in enumerate(names):
        heard = VoiceEvidence(
            {f: float(p[i, k]) for k, f in enumerate(families)},
            {f: float(p[i, k] / share[k]) for k, f in enumerate(families)},
            min(1.0, (spec["ood_distance"] / distance[i]) ** 2),
            "single",
            float(distance[i]),
            spec["ratio_floor"],
        )
        pred[name] = voice_only_labels(heard, full["items"][name]["speech_s"], load_decision_tables())
        truth[name] = [full["items"][name]["label"]]
    tables = load_wheels(wheels)
    result = score_dataset(truth, pred, tables)
    f_m, f_l1 = floor_of(result, truth, tables), floor_of(result, truth, tables, objective="L1-avg")
    print(
        f"\n== full-length recordings of speaker(s) {','.join(sorted(speakers))}, single view fitted without them: "
        f"L1-avg {100 * result.l1_avg:.1f} (floor {100 * f_l1.result.l1_avg:.1f}, "
        f"{100 * (result.l1_avg - f_l1.result.l1_avg):+.1f}), M-avg {100 * result.m_avg:.1f} "
        f"(floor {100 * f_m.result.m_avg:.1f}, {100 * (result.m_avg - f_m.result.m_avg):+.1f}), "
        f"{result.n_scored} scored, {result.n_skipped} neutral skipped"
    )


def report(model_json: dict, oof: dict, wheels: Path) -> None:
    """Per held-out speaker: accuracy, ECE and the voice-only EW scores beside the fold's floor."""
    from bench.confusion import confusion, print_confusion
    from omni_emotion.engines.decision import load_decision_tables
    from omni_emotion.engines.fusion import voice_only_labels
    from omni_emotion.engines.voice_model import VoiceEvidence
    from omni_emotion.evaluation.floor import floor_of
    from omni_emotion.evaluation.metrics import score_dataset
    from omni_emotion.evaluation.wheels import load_wheels

    tables, decision = load_wheels(wheels), load_decision_tables()
    families, y = oof["families"], oof["y"]
    y_index = np.array([families.index(v) for v in y])
    share = np.array([model_json["train_share"][f] for f in families])
    for view in ("single", "speaker"):
        spec = model_json["views"][view]
        p = softmax(oof["held_out"][view]["logits"] / spec["temperature"])
        ece, table = reliability(p, y_index)
        print(
            f"\n== view '{view}': leave-one-speaker-out (fit on four speakers, score the fifth), "
            f"temperature {spec['temperature']:.3f}, pooled held-out ECE {ece:.3f}"
        )
        print("speaker   n   acc    ECE | L1-avg  floor   gap | M-avg  floor   gap | neutral alone")
        gaps, all_truth, all_pred = [], {}, {}
        for s in np.unique(oof["speakers"]):
            held = oof["speakers"] == s
            distance = oof["held_out"][view]["distance"]
            truth, pred = {}, {}
            for i in np.where(held)[0]:
                probabilities = {f: float(p[i, k]) for k, f in enumerate(families)}
                ratio = {f: float(p[i, k] / share[k]) for k, f in enumerate(families)}
                weight = min(1.0, (spec["ood_distance"] / distance[i]) ** 2)
                heard = VoiceEvidence(
                    probabilities, ratio, float(weight), view, float(distance[i]), spec["ratio_floor"]
                )
                pred[oof["keys"][i]] = voice_only_labels(heard, oof["speech_s"][i], decision)
                truth[oof["keys"][i]] = [oof["labels"][i]]
            all_truth |= truth
            all_pred |= pred
            result = score_dataset(truth, pred, tables)
            f_m, f_l1 = floor_of(result, truth, tables), floor_of(result, truth, tables, objective="L1-avg")
            acted = [k for k in truth if truth[k] != ["neutral"]]
            alone = sum(pred[k] == ["neutral"] for k in acted) / max(1, len(acted))
            acc = float((p[held].argmax(axis=1) == y_index[held]).mean())
            fold_ece, _ = reliability(p[held], y_index[held])
            gap = (100 * (result.l1_avg - f_l1.result.l1_avg), 100 * (result.m_avg - f_m.result.m_avg))
            gaps.append(gap)
            print(
                f"{s:>7} {held.sum():3d} {acc:5.1%} {fold_ece:6.3f} | {100 * result.l1_avg:6.1f} "
                f"{100 * f_l1.result.l1_avg:6.1f} {gap[0]:+5.1f} | {100 * result.m_avg:5.1f} "
                f"{100 * f_m.result.m_avg:6.1f} {gap[1]:+5.1f} | {alone:5.1%}"
            )
        mean = np.mean(gaps, axis=0)
        print(
            f"{'mean':>7}                    |               {mean[0]:+5.1f} |               {mean[1]:+5.1f} |"
        )
        print("confusion, held out (acted emotion x family of the first label):")
        print_confusion(confusion(all_truth, all_pred))
        print("reliability (held-out, pooled): bin<=  confidence  accuracy  n")
        for edge, conf, acc, n in table:
            print(f"  {edge:4.1f}  {conf:10.3f}  {acc:8.3f}  {n:3d}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "dev" / "emodb-5speakers")
    parser.add_argument(
        "--full",
        type=Path,
        default=SHARED_DATA / "dev" / "emodb-speaker03",
        help="full-length recordings of a dev speaker, scored with a model fitted without them",
    )
    parser.add_argument("--wheels", type=Path, default=SHARED_DATA / "emotion_wheel")
    parser.add_argument("--cache", type=Path, default=Path("bench/out/voice_features.json"))
    parser.add_argument("--out", type=Path, default=None, help="default: the engine's voice_model.json")
    parser.add_argument("--report-only", action="store_true", help="print the report, write nothing")
    args = parser.parse_args()
    from omni_emotion.engines.voice_model import VOICE_MODEL_FILE

    data = extract(args.data, args.cache)
    model_json, oof = fit(data)
    if not args.report_only:
        out = args.out or VOICE_MODEL_FILE
        out.write_text(json.dumps(model_json, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {out} ({out.stat().st_size} bytes)")
    report(model_json, oof, args.wheels)
    if args.full.is_dir():
        full = extract(args.full, args.cache.with_name(args.cache.stem + "-full.json"))
        held_out_full_length(data, full, model_json, args.wheels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Grouping tables: the authors' file formats, the M1/M2/M3 resolution rules, the parsed-table cache."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from omni_emotion.errors import EvaluationDataError
from omni_emotion.evaluation.wheels import (
    GROUPINGS,
    WHEEL_FILES,
    build_mapping,
    load_wheels,
    parse_wheels,
)
from omni_emotion.mentions import split_list_string

# A wheel in the authors' layout: blank cells repeat the value above; padded, capitalised cells normalise.
WHEEL = [
    (" Joy ", "Happy", "Cheerful"),
    (None, None, "Glad"),
    (None, "Calm", "Serene"),
    ("Anger", "Mad", "Furious"),
    (None, None, "Angry"),
]


def _xlsx(path: Path, header: tuple[str, ...], rows: list[tuple]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def write_tables(folder: Path) -> Path:
    """Small tables in the benchmark's seven-file layout (hand-checked expectations in the tests below)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "format.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "format"])
        writer.writerow(["happy", "happiness,happily"])
        writer.writerow(["joy", "joyful,joyous,happiness"])  # "happiness" is under two base words
        writer.writerow(["angry", "anger,angrily"])
        writer.writerow(["content", "contented,contentment"])
        writer.writerow(["bored", "boredom"])  # not reachable from any wheel word
        writer.writerow(["glad", ""])
        writer.writerow(["calm", "calmness"])
        writer.writerow(["let down", "letting down"])
    _xlsx(
        folder / "synonym.xlsx",
        ("word_run1", "synonym_run1", "word_run2", "synonym_run2"),
        [
            ("happy", "glad, joy, content", "Happy", "['Glad']"),
            ("angry", "mad, let down", "angry", "furious"),
            ("calm", "serene", "calm", "content"),
        ],
    )
    for k in range(1, 6):
        _xlsx(folder / f"wheel{k}.xlsx", ("level1", "level2", "level3"), WHEEL)
    return folder


@pytest.fixture()
def tables(tmp_path):
    return load_wheels(write_tables(tmp_path / "wheels"), cache_dir=tmp_path / "cache")


def test_split_list_string_follows_the_authors_rule():
    assert split_list_string("['a', 'b']") == ["a", "b"]
    assert split_list_string("[a, b]") == ["a", "b"]
    assert split_list_string("a, b") == ["a", "b"]
    assert split_list_string('["x", "y z"]') == ["x", "y z"]
    assert split_list_string("[]") == []
    assert split_list_string("") == []


def test_m1_takes_the_alphabetically_first_base_word(tables):
    assert tables.group("happiness", "M1") == "happy"  # under happy and joy
    assert tables.group("joyous", "M1") == "joy"
    assert tables.group("happy", "M1") == "happy"


def test_m2_maps_through_merged_synonym_runs(tables):
    assert tables.group("joyous", "M2") == "happy"  # joy is a synonym of happy (run 1)
    assert tables.group("contentment", "M2") == "calm"  # content -> {happy, calm}: first alphabetically
    assert tables.group("let down", "M2") == "angry"  # multi-word synonym
    assert tables.group("boredom", "M2") == ""  # bored has no synonym row: no group


def test_m3_levels_follow_the_wheel_with_forward_filled_cells(tables):
    assert tables.group("glad", "W1-L1") == "joy"  # blank level1/level2 cells repeat "Joy"/"Happy"
    assert tables.group("glad", "W1-L2") == "happy"
    assert tables.group("angrily", "W3-L1") == "anger"
    assert tables.group("angrily", "W3-L2") == "mad"
    assert tables.group("contentment", "W2-L2") == "calm"  # sorted reachable words [calm, happy]: calm first
    assert tables.group("boredom", "W1-L1") == ""
    assert tables.group("unknown", "M1") == ""


def test_level1_word_maps_to_its_first_level2_child_at_l2(tmp_path):
    folder = write_tables(tmp_path / "w")
    with open(folder / "format.csv", "a", newline="") as handle:
        csv.writer(handle).writerow(["joy", ""])  # the wheel's level-1 word itself as a base word
    _xlsx(folder / "synonym.xlsx", ("word_run1", "synonym_run1"), [("joy", "joyousness")])
    got = parse_wheels(folder)
    assert got.group("joy", "W1-L1") == "joy"
    assert got.group("joy", "W1-L2") == "calm"  # children of Joy: happy, calm -> calm
    assert got.wheel_words >= {"joy", "happy", "calm", "serene", "anger", "mad", "furious", "angry"}


def test_cache_is_written_keyed_by_content_and_reused(tmp_path):
    folder = write_tables(tmp_path / "w")
    cache = tmp_path / "cache"
    first = load_wheels(folder, cache_dir=cache)
    files = list(cache.glob("wheels-*.json"))
    assert len(files) == 1
    payload = json.loads(files[0].read_text())
    assert payload["groupings"] == list(GROUPINGS)
    assert load_wheels(folder, cache_dir=cache).groups == first.groups
    # An edited table gets a new cache entry instead of the stale one.
    with open(folder / "format.csv", "a", newline="") as handle:
        csv.writer(handle).writerow(["sad", "sadness"])
    edited = load_wheels(folder, cache_dir=cache)
    assert edited.group("sadness", "M1") == "sad" and len(list(cache.glob("wheels-*.json"))) == 2


def test_corrupt_cache_is_rebuilt(tmp_path):
    folder = write_tables(tmp_path / "w")
    cache = tmp_path / "cache"
    good = load_wheels(folder, cache_dir=cache)
    (path,) = cache.glob("wheels-*.json")
    path.write_text("{not json")
    assert load_wheels(folder, cache_dir=cache).groups == good.groups
    assert json.loads(path.read_text())["digest"] == good.digest


def test_missing_files_name_the_fix(tmp_path):
    folder = write_tables(tmp_path / "w")
    (folder / "wheel3.xlsx").unlink()
    with pytest.raises(EvaluationDataError, match=r"wheel3\.xlsx.*--wheels.*eval --download"):
        load_wheels(folder, cache_dir=tmp_path / "cache")


def test_corrupt_workbook_is_a_clear_error(tmp_path):
    folder = write_tables(tmp_path / "w")
    (folder / "synonym.xlsx").write_bytes(b"not a zip file")
    with pytest.raises(EvaluationDataError, match=r"synonym.xlsx"):
        load_wheels(folder, cache_dir=tmp_path / "cache")


def test_published_tables_load_and_resolve(data_dir, tmp_path):
    folder = data_dir / "emotion_wheel"
    assert all((folder / name).is_file() for name in WHEEL_FILES)
    tables = load_wheels(folder, cache_dir=tmp_path)
    assert len(tables.groups) == 7386  # 1,255 base words expanded by their word forms
    assert len(tables.wheel_words) == 253
    assert tables.group("angry", "M1") == "anger"  # "angry" is listed under anger and angry
    assert tables.group("happiness", "M2") == "joy"
    assert tables.group("angry", "W1-L1") == "mad"


def _first_difference(built: dict, reference: dict) -> str | None:
    """The first entry where the built mapping and the authors' differ, as a sentence; None when equal.

    raw_mapping lists are compared as multisets: the authors merge synonym runs through ``set()``, so their
    order is arbitrary (302 of the 1,255 published lists are unsorted); every other list keeps its order."""
    for key in ("format_mapping", "raw_mapping"):
        ours, theirs = built[key], reference[key]
        for word in sorted(set(ours) | set(theirs)):
            a, b = ours.get(word), theirs.get(word)
            if key == "raw_mapping" and a is not None and b is not None:
                a, b = sorted(a), sorted(b)
            if a != b:
                return f"{key}[{word!r}]: built {a!r}, published {b!r}"
    for wheel in sorted(set(built["wheel_map_whole"]) | set(reference["wheel_map_whole"])):
        for level in ("level1", "level2"):
            ours = built["wheel_map_whole"].get(wheel, {}).get(level, {})
            theirs = reference["wheel_map_whole"].get(wheel, {}).get(level, {})
            for word in sorted(set(ours) | set(theirs)):
                if ours.get(word) != theirs.get(word):
                    return (
                        f"wheel_map_whole[{wheel}][{level}][{word!r}]: built {ours.get(word)!r}, "
                        f"published {theirs.get(word)!r}"
                    )
    return None


def test_first_difference_names_the_entry(tmp_path):
    built = build_mapping(write_tables(tmp_path / "w")).to_dict()
    assert _first_difference(built, json.loads(json.dumps(built))) is None
    changed = json.loads(json.dumps(built))
    changed["raw_mapping"]["happy"] = ["joy"]
    assert _first_difference(built, changed) == "raw_mapping['happy']: built ['happy'], published ['joy']"
    changed = json.loads(json.dumps(built))
    changed["wheel_map_whole"]["wheel3"]["level2"]["glad"] = "calm"
    assert "wheel_map_whole[wheel3][level2]['glad']" in _first_difference(built, changed)


def test_built_mapping_reproduces_the_published_mer2026_mapping(data_dir):
    folder = data_dir / "emotion_wheel_mer2026"
    reference = json.loads((folder / "wheel_mapping.json").read_text(encoding="utf-8"))
    built = build_mapping(folder).to_dict()
    assert [len(built[k]) for k in reference] == [7356, 1255, 5]
    assert _first_difference(built, reference) is None


def _case3(label: str, mapping: dict, wheel: str) -> str:
    """The authors' level-1 case-3 mapping written from its definition, over their published JSON."""
    bases = mapping["format_mapping"].get(label, [])
    candidates = sorted(w for base in bases for w in mapping["raw_mapping"][base])
    wheel_map = mapping["wheel_map_whole"][wheel]["level1"]
    return next((wheel_map[w] for w in candidates if w in wheel_map), "")


def test_mer_fg_on_a_shared_baseline_equals_the_definition_over_the_published_mapping(data_dir, tmp_path):
    from omni_emotion.evaluation.metrics import score_dataset
    from omni_emotion.evaluation.runner import read_ground_truth, read_predictions

    folder = data_dir / "emotion_wheel_mer2026"
    tables = load_wheels(folder, cache_dir=tmp_path)
    assert tables.edition == "mer2026" and tables.name.startswith("mer2026 ")
    assert load_wheels(data_dir / "emotion_wheel", cache_dir=tmp_path).edition == "ov-mer"
    mapping = json.loads((folder / "wheel_mapping.json").read_text(encoding="utf-8"))
    truth = read_ground_truth(data_dir / "ovmerd" / "check-openset.csv").labels
    pred = read_predictions(data_dir / "ovmerd" / "baselines" / "Otter" / "openset.csv").labels
    wheel_scores = []
    for k in range(1, 6):
        precision, recall = [], []
        for name, labels in truth.items():
            gt = {g for g in (_case3(x, mapping, f"wheel{k}") for x in labels) if g}
            guess = {g for g in (_case3(x, mapping, f"wheel{k}") for x in pred[name]) if g}
            if gt:
                hits = len(gt & guess)
                precision.append(hits / len(guess) if guess else 0.0)
                recall.append(hits / len(gt))
        p, r = sum(precision) / len(precision), sum(recall) / len(recall)
        wheel_scores.append(2 * p * r / (p + r))
    assert score_dataset(truth, pred, tables).mer_fg.score == pytest.approx(sum(wheel_scores) / 5, abs=1e-12)

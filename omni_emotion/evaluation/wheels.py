"""The OV-MER emotion-wheel (EW) grouping tables: read the authors' files, resolve every label once, cache.

The benchmark ships seven files (``format.csv``, ``synonym.xlsx``, ``wheel1.xlsx`` .. ``wheel5.xlsx``). They
define 12 groupings of free emotion words:

- M1: word form -> base word (``format.csv``; a form listed under several base words takes the
  alphabetically first, as the authors' ``sorted(...)[0]`` does).
- M2: M1, then base word -> emotion-wheel word (``synonym.xlsx``, the union of its eight synonym runs,
  again alphabetically first).
- M3 on wheel K at level L1 or L2: every wheel word reachable from the label's base words, sorted, and the
  first one that sits on wheel K gives its level-1 (or level-2) category.

Because the tables are fixed, each known word form is resolved to its 12 groups once, and that table is
cached as JSON under ``~/.cache/omni-emotion`` keyed by the SHA-256 of the seven files, so loading after the
first time is a JSON read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from omni_emotion.errors import EvaluationDataError
from omni_emotion.mentions import split_list_string
from omni_emotion.paths import cache_root

__all__ = [
    "EDITIONS",
    "GROUPINGS",
    "L1_GROUPINGS",
    "WHEEL_FILES",
    "WheelMapping",
    "WheelTables",
    "build_mapping",
    "default_cache_dir",
    "default_wheels_dir",
    "edition_of",
    "find_wheels_dir",
    "load_wheels",
]

log = logging.getLogger(__name__)

NUM_WHEELS = 5
WHEEL_FILES = ("format.csv", "synonym.xlsx", *(f"wheel{k}.xlsx" for k in range(1, NUM_WHEELS + 1)))
GROUPINGS = ("M1", "M2", *(f"W{k}-L{lvl}" for k in range(1, NUM_WHEELS + 1) for lvl in (1, 2)))
L1_GROUPINGS = tuple(g for g in GROUPINGS if g.endswith("-L1"))
CACHE_FORMAT = 2  # bump when the cached JSON layout or the resolution rules change
# The published editions of the tables differ only in format.csv (SHA-256): the OV-MER paper's (AffectGPT
# 2025 release, MERTools MER2025) and MER2026 Track 2's revised word forms (MERTools MER2026_Track2).
EDITIONS = {
    "ba6de7d61db8e129d1d7ef8a2aae22a9e93a2c2e3e683e6f2735d04455f016f2": "ov-mer",
    "82234299875465ecf6c196ace42ffbe745baaeea72b5e39de955af36929982a4": "mer2026",
}
WHEELS_ENV = "OMNI_EMOTION_WHEELS"


def default_cache_dir() -> Path:
    """omni-emotion's cache folder (``omni_emotion.paths.cache_root``)."""
    return cache_root()


def default_wheels_dir() -> Path:
    """Where ``omni-emotion eval --download`` puts the tables."""
    return default_cache_dir() / "emotion_wheel"


def find_wheels_dir(folder: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the seven table files: ``folder``, else ``$OMNI_EMOTION_WHEELS``, else the cache.

    Raises EvaluationDataError naming the missing files and how to get them.
    """
    candidate = Path(folder or os.environ.get(WHEELS_ENV) or default_wheels_dir()).expanduser()
    missing = [name for name in WHEEL_FILES if not (candidate / name).is_file()]
    if missing:
        raise EvaluationDataError(
            f"The emotion-wheel tables are missing from {candidate} ({', '.join(missing)}); pass --wheels "
            "DIR pointing at the OV-MER 'emotion_wheel' folder (AffectGPT or MERTools repository on GitHub) "
            "or run "
            "`omni-emotion eval --download` once with a network."
        )
    return candidate


@dataclass(frozen=True)
class WheelTables:
    """Every known word form resolved to its group under each of the 12 groupings.

    groups: lowercase word form -> 12 group names in ``GROUPINGS`` order; ``""`` where the form has no group
            under that grouping (then the label is dropped there, as in the benchmark).
    wheel_words: every word placed on any of the five wheels (the benchmark's ~250 core emotion words).
    digest: SHA-256 over the seven source files (identifies the table version).
    edition: "ov-mer" or "mer2026" when format.csv is one of the published ones (``EDITIONS``), else "".
    """

    groups: Mapping[str, tuple[str, ...]]
    wheel_words: frozenset[str] = frozenset()
    digest: str = ""
    edition: str = ""

    def __post_init__(self) -> None:
        for label, row in self.groups.items():
            if len(row) != len(GROUPINGS):
                raise ValueError(f"{label!r} has {len(row)} groups, expected {len(GROUPINGS)}")

    @property
    def name(self) -> str:
        """What the output calls these tables: the edition, if known, and a short content hash."""
        return f"{self.edition or 'tables'} {self.digest[:12]}".strip()

    @property
    def vocabulary(self) -> frozenset[str]:
        """All word forms the metric recognises (about 7,400 for the published tables)."""
        return frozenset(self.groups)

    def group(self, label: str, grouping: str) -> str:
        """The group of one (already lowercased, stripped) label under ``grouping``; ``""`` when none."""
        row = self.groups.get(label)
        return row[GROUPINGS.index(grouping)] if row else ""


# ----------------------------------------------------------------------------------------------- parsing
def _cell_text(value: object) -> str:
    return "" if value is None else str(value)


def _read_xlsx_rows(path: Path) -> list[dict[str, str]]:
    """Rows of the first sheet as header -> cell text ("" for blank cells)."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises several unrelated types for a bad file
        raise EvaluationDataError(f"{path} is not a readable .xlsx workbook ({err}).") from err
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [_cell_text(h).strip() for h in next(rows, ())]
        return [
            {h: _cell_text(v) for h, v in zip(header, row, strict=False)}
            for row in rows
            if any(v is not None for v in row)
        ]
    finally:
        book.close()


def _read_format(path: Path) -> dict[str, list[str]]:
    """format.csv -> word form -> base words (the authors' ``format2raws``)."""
    form_to_bases: dict[str, list[str]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"name", "format"} <= set(reader.fieldnames):
            raise EvaluationDataError(f"{path} must have the columns 'name,format'.")
        for row in reader:
            base = (row["name"] or "").strip()
            if not base:
                continue
            for form in split_list_string(row["format"] or ""):
                form_to_bases.setdefault(form, []).append(base)
            form_to_bases.setdefault(base, []).append(base)
    return form_to_bases


def _merge_runs(merged: dict[str, list[str]], run: dict[str, list[str]]) -> dict[str, list[str]]:
    """The authors' ``func_merge_map``: a word in both maps gets the union of its lists (their ``set()``,
    whose order is arbitrary, so sorted here); a word in one keeps its list as it is, repeats included."""
    out: dict[str, list[str]] = {}
    for word in [*merged, *run]:
        if word in merged and word in run:
            out[word] = sorted(set(merged[word] + run[word]))
        else:
            out[word] = merged[word] if word in merged else run[word]
    return out


def _read_synonyms(path: Path) -> dict[str, list[str]]:
    """synonym.xlsx -> word -> wheel words (the authors' ``raw_mapping``): each ``word_runK``/``synonym_runK``
    pair maps the wheel word to itself and each synonym to it; the runs are merged in order."""
    rows = _read_xlsx_rows(path)
    runs = sorted({key[len("word_") :] for key in (rows[0] if rows else {}) if key.startswith("word_run")})
    runs = [run for run in runs if rows and f"synonym_{run}" in rows[0]]
    if not runs:
        raise EvaluationDataError(f"{path} has no 'word_runK'/'synonym_runK' column pairs.")
    merged: dict[str, list[str]] = {}
    for run in runs:
        to_wheel: dict[str, list[str]] = {}
        for row in rows:
            word = row[f"word_{run}"].strip().lower()
            if not word:
                continue
            to_wheel.setdefault(word, []).append(word)
            for synonym in split_list_string(row[f"synonym_{run}"]):
                to_wheel.setdefault(synonym.strip().lower(), []).append(word)
        merged = _merge_runs(merged, to_wheel) if merged else to_wheel
    return merged


def _read_wheel(path: Path) -> dict[str, dict[str, list[str]]]:
    """wheelK.xlsx -> level1 -> level2 -> [level3]; a blank cell repeats the value above it."""
    tree: dict[str, dict[str, list[str]]] = {}
    current = {"level1": "", "level2": "", "level3": ""}
    for row in _read_xlsx_rows(path):
        for level in current:
            if level not in row:
                raise EvaluationDataError(f"{path} must have the columns level1, level2, level3.")
            if row[level].strip():
                current[level] = row[level].strip().lower()
        tree.setdefault(current["level1"], {}).setdefault(current["level2"], []).append(current["level3"])
    return tree


def _wheel_map(tree: dict[str, dict[str, list[str]]], level: int) -> dict[str, str]:
    """Map every word on one wheel to its level-1 or level-2 category.

    Writes happen in file order so that a word listed twice keeps its last placement, as in the benchmark.
    At level 2 a level-1 word maps to its alphabetically first level-2 child.
    """
    mapping: dict[str, str] = {}
    for level1, children in tree.items():
        mapping[level1] = level1 if level == 1 else sorted(children)[0]
        for level2, leaves in children.items():
            mapping[level2] = level1 if level == 1 else level2
            for leaf in leaves:
                mapping[leaf] = level1 if level == 1 else level2
    return mapping


@dataclass(frozen=True)
class WheelMapping:
    """The three tables every grouping is resolved from, in the authors' layout (their ``wheel_mapping.npz``,
    built by MERTools' ``read_format2raws``, ``read_candidate_synonym_merge`` and ``func_get_wheel_cluster``).

    format_mapping: word form -> base words, in file order, repeats kept (the M1 table).
    raw_mapping: base word -> wheel words (the M2 table; merged runs' lists are sorted, see ``_merge_runs``).
    wheel_map_whole: ``wheelK`` -> ``level1``/``level2`` -> wheel word -> its category on that wheel.
    """

    format_mapping: Mapping[str, list[str]]
    raw_mapping: Mapping[str, list[str]]
    wheel_map_whole: Mapping[str, Mapping[str, Mapping[str, str]]]

    def to_dict(self) -> dict[str, object]:
        """The JSON layout of the authors' mapping (keys ``format_mapping``, ``raw_mapping``,
        ``wheel_map_whole``)."""
        return {
            "format_mapping": dict(self.format_mapping),
            "raw_mapping": dict(self.raw_mapping),
            "wheel_map_whole": {
                k: {lvl: dict(m) for lvl, m in v.items()} for k, v in self.wheel_map_whole.items()
            },
        }


def build_mapping(folder: str | os.PathLike[str]) -> WheelMapping:
    """The authors' three tables from the seven files in ``folder`` (no cache)."""
    folder = Path(folder)
    format_mapping = _read_format(folder / "format.csv")
    to_wheel = _read_synonyms(folder / "synonym.xlsx")
    # only the base words of format.csv are looked up, and the authors keep just those
    bases = dict.fromkeys(base for bases in format_mapping.values() for base in bases)
    raw_mapping = {base: to_wheel[base] for base in bases if base in to_wheel}
    wheels = {}
    for k in range(1, NUM_WHEELS + 1):
        tree = _read_wheel(folder / f"wheel{k}.xlsx")
        wheels[f"wheel{k}"] = {"level1": _wheel_map(tree, 1), "level2": _wheel_map(tree, 2)}
    return WheelMapping(format_mapping, raw_mapping, wheels)


def _resolve(mapping: WheelMapping) -> dict[str, tuple[str, ...]]:
    """Each word form's 12 groups: the authors' ``func_backward_case1``, ``case2`` and ``case3``."""
    to_wheel = mapping.raw_mapping
    wheel_maps = [
        mapping.wheel_map_whole[f"wheel{k}"][f"level{lvl}"]
        for k in range(1, NUM_WHEELS + 1)
        for lvl in (1, 2)
    ]
    groups: dict[str, tuple[str, ...]] = {}
    for form, bases in mapping.format_mapping.items():
        m1 = min(bases)
        m2 = min(to_wheel[m1]) if m1 in to_wheel else ""
        reachable = sorted({word for base in bases for word in to_wheel.get(base, ())})
        m3 = [next((wmap[word] for word in reachable if word in wmap), "") for wmap in wheel_maps]
        groups[form] = (m1, m2, *m3)
    return groups


def edition_of(folder: Path) -> str:
    """The published edition whose format.csv ``folder`` holds ("ov-mer", "mer2026"), else ""."""
    return EDITIONS.get(hashlib.sha256((Path(folder) / "format.csv").read_bytes()).hexdigest(), "")


def parse_wheels(folder: Path, digest: str = "") -> WheelTables:
    """Parse the seven files in ``folder`` (no cache)."""
    mapping = build_mapping(folder)
    wheel_words = frozenset(word for wheel in mapping.wheel_map_whole.values() for word in wheel["level1"])
    return WheelTables(_resolve(mapping), wheel_words, digest, edition_of(folder))


def _digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for name in WHEEL_FILES:
        sha.update(name.encode())
        sha.update(hashlib.sha256((folder / name).read_bytes()).digest())
    return sha.hexdigest()


def load_wheels(
    folder: str | os.PathLike[str] | None = None, *, cache_dir: str | os.PathLike[str] | None = None
) -> WheelTables:
    """Load the grouping tables from ``folder`` (see ``find_wheels_dir``), using the parsed-table cache.

    The cache file is ``<cache_dir>/wheels-<digest>.json`` (default ``~/.cache/omni-emotion``); it is keyed by
    the files' content, so an edited table is never served from an old cache, and a corrupt cache is rebuilt.
    """
    source = find_wheels_dir(folder)
    digest = _digest(source)
    cache_path = Path(cache_dir or default_cache_dir()) / f"wheels-{digest[:16]}.json"
    try:
        payload = json.loads(cache_path.read_text(encoding="utf-8"))
        if payload.get("format") == CACHE_FORMAT and payload.get("digest") == digest:
            groups = {k: tuple(v) for k, v in payload["groups"].items()}
            return WheelTables(groups, frozenset(payload["wheel_words"]), digest, payload["edition"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        log.warning("ignoring unreadable wheel cache %s (%s); rebuilding it", cache_path, err)
    tables = parse_wheels(source, digest)
    payload = {
        "format": CACHE_FORMAT,
        "digest": digest,
        "edition": tables.edition,
        "groupings": list(GROUPINGS),
        "wheel_words": sorted(tables.wheel_words),
        "groups": tables.groups,
    }
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
        tmp.replace(cache_path)
    except OSError as err:  # a read-only home must not stop an evaluation
        log.warning("could not write the wheel cache %s (%s)", cache_path, err)
    return tables

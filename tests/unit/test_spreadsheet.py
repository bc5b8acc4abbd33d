"""CSV cells a spreadsheet opens as text: formula injection neutralised as OWASP recommends."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from graph.ingest.loader import FileReport, Reject, write_rejects
from graph.spreadsheet import neutralise_formula, write_csv


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd",
                                  '=HYPERLINK("http://evil.example","x")', "=cmd|' /C calc'!A0"])
def test_a_cell_a_spreadsheet_would_evaluate_gets_a_quote(cell: str) -> None:
    assert neutralise_formula(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["ring-0001", "acc-42", "Krill Labs", "", "'already quoted", " =spaced", "a=b"])
def test_other_text_is_unchanged(cell: str) -> None:
    assert neutralise_formula(cell) == cell


@pytest.mark.parametrize("cell", [-1, -0.5, 3, 0.25, None])
def test_numbers_stay_numbers(cell: object) -> None:
    assert neutralise_formula(cell) == cell


def test_write_csv_neutralises_every_cell(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    rows = write_csv(path, ("a", "b"), [("=1+1", -0.5), ("@x", "plain")])
    assert rows == 2
    with open(path, newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [["a", "b"], ["'=1+1", "-0.5"], ["'@x", "plain"]]


def test_the_rejects_file_is_written_safely(tmp_path: Path) -> None:
    report = FileReport("links", "links.csv")
    report.rejects.append(Reject("links.csv", 3, "value", '=HYPERLINK("http://evil.example")', "malformed ip"))
    report.rejects.append(Reject("links.csv", 4, "@field", "+1", "-reason"))
    path = write_rejects([report], tmp_path / "rejects.csv")
    assert path is not None
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["value"] == "'=HYPERLINK(\"http://evil.example\")" and rows[0]["line"] == "3"
    assert (rows[1]["field"], rows[1]["value"], rows[1]["reason"]) == ("'@field", "'+1", "'-reason")

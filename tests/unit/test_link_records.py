"""Column-by-column validation of links.csv gives exactly the rows and rejects `parse_link` gives."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.generator import generate_population
from graph.ingest.link_records import links_table, parse_link_records
from graph.ingest.readers import BundleFile, NumberedRow, read_csv_blocks
from graph.ingest.rows import RowError, parse_link

_HEADER = ["account_id", "kind", "value", "first_seen", "last_seen", "count", "brand", "bin", "last4", "country"]
# Per field: forms a valid row has (weighted up, so most rows are valid but for one field), then
# forms that each send a row to parse_link or get it rejected.
_FORMS = {
    "account_id": (["a1", "acc_0000017"], [" a2", "", "o'neil", 'q"uote', "back\\slash", "dév", "a" * 300,
                                          "4111111111111111", "a\x07"]),
    "kind": (["ip", "device", "payment", "email", "phone"], ["IP", " ip", "cat", ""]),
    "value": (["203.0.113.7", "dev_1a2b", "pm_77", "J.Doe+x@GoogleMail.com", "+15550109999"],
              ["2001:DB8::1", "::ffff:198.51.100.2", "01.2.3.4", "o'neil@example.com", "+1 (555) 010-9999",
               " dev_3", "", "x" * 300, "5555 5555 5555 4444", "not-an-ip", "dév"]),
    "first_seen": (["2026-01-05T10:00:00Z", "2024-02-29T23:59:59Z", ""],
                   ["2026-01-05T10:00:00+02:00", "2026-02-30T00:00:00Z", "1969-07-20T20:17:40Z", "yesterday",
                    "2026-01-05 10:00:00", "2026-01-05T10:00:00.250Z"]),
    "last_seen": (["2026-01-06T00:00:00Z", ""], ["2026-01-05T09:00:00Z", "2026-13-01T00:00:00Z",
                                                 "2026-01-07T00:00:00+00:00"]),
    "count": (["", "1", "7"], ["0", "007", "999999999999", "9007199254740993", "-1", "1.5", " 3"]),
    "brand": (["", "VISA"], ["Master Card", " amex"]),
    "bin": (["", "411111"], ["4111111", "12345", "41111111"]),
    "last4": (["", "1111"], ["111", "abcd"]),
    "country": (["", "us"], ["GB", " de"]),
}
_FIELD = {name: st.sampled_from(valid * 8 + tricky) for name, (valid, tricky) in _FORMS.items()}
_ROW = st.fixed_dictionaries(_FIELD).map(lambda fields: [fields[name] for name in _HEADER])


Parsed = tuple[pa.Table, list[tuple[int, str, str]]]


def _by_rows(header: list[str], lines: list[int], rows: list[list[str]]) -> Parsed:
    parsed, rejects = [], []
    for line, row in zip(lines, rows, strict=True):
        try:
            parsed.append(parse_link(dict(zip(header, row, strict=True))))
        except RowError as error:
            rejects.append((line, error.field, error.reason))
    return links_table(parsed), rejects


def _by_columns(header: list[str], lines: list[int], rows: list[list[str]]) -> Parsed:
    table, rejects = parse_link_records(header, lines, rows, [])
    return table, [(line, error.field, error.reason) for line, error in rejects]


@settings(max_examples=300, deadline=None)
@given(st.lists(_ROW, min_size=1, max_size=40))
def test_columns_and_rows_agree_on_every_row(rows: list[list[str]]) -> None:
    lines = list(range(2, len(rows) + 2))
    assert _by_columns(_HEADER, lines, rows) == _by_rows(_HEADER, lines, rows)


def test_a_generated_population_is_parsed_alike_and_mostly_vouched_for(tmp_path: Path) -> None:
    generate_population(tmp_path, 300, 5, events_per_account=0)
    with read_csv_blocks(BundleFile("links", tmp_path / "links.csv")) as found:
        lines, rows = [], []
        for block in found.blocks:
            lines += block.lines
            rows += block.rows
        header = found.header
    columns = _by_columns(header, lines, rows)
    assert columns == _by_rows(header, lines, rows)
    assert columns[0].num_rows == len(rows) > 1000


def test_rows_of_another_width_are_rejected_in_line_order() -> None:
    good = ["a1", "device", "d1", "", "", "", "", "", "", ""]
    other = NumberedRow(3, {"__row__": "has 2 fields, the header 10", "__text__": "a,b"})
    bad = ["a2", "cat", "x", "", "", "", "", "", "", ""]
    table, rejects = parse_link_records(_HEADER, [2, 4], [good, bad], [other])
    assert table.column("account_id").to_pylist() == ["a1"]
    assert [(line, error.field) for line, error in rejects] == [(3, "(row)"), (4, "kind")]

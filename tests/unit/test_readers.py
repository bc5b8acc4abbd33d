"""Reading hostile bundle files: every malformed record is one named reject, the good rows around it are kept."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from graph.errors import BundleError
from graph.ingest.readers import BundleFile, read_rows
from graph.ingest.rows import PARSERS, RowError

HEADER = b"account_id,kind,value\n"


def _read(path: Path, name: str = "links") -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    """(line, account_id) of the rows the parser accepts, and (line, field, reason) of those it rejects."""
    good: list[tuple[int, str]] = []
    bad: list[tuple[int, str, str]] = []
    for numbered in read_rows(BundleFile(name, path)):
        try:
            good.append((numbered.line, PARSERS[name](numbered.fields)["account_id"]))
        except RowError as error:
            bad.append((numbered.line, error.field, error.reason))
    return good, bad


def _csv(tmp_path: Path, body: bytes, name: str = "links.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_an_unterminated_quote_costs_its_line_only(tmp_path: Path) -> None:
    path = _csv(tmp_path, HEADER + b'g1,device,d1\nh1,device,"open\ng2,device,d2\ng3,device,"d3"\ng4,device,d4\n')
    good, bad = _read(path)
    assert good == [(2, "g1"), (4, "g2"), (5, "g3"), (6, "g4")]
    assert [(line, field) for line, field, _ in bad] == [(3, "(row)")]
    assert "quote" in bad[0][2]


def test_an_unterminated_quote_on_the_last_line(tmp_path: Path) -> None:
    good, bad = _read(_csv(tmp_path, HEADER + b'g1,device,d1\ng2,device,d2\nh1,device,"never closed\n'))
    assert good == [(2, "g1"), (3, "g2")] and [b[0] for b in bad] == [4]


def test_a_quoted_field_may_hold_line_breaks(tmp_path: Path) -> None:
    path = _csv(tmp_path, b"account_id,note\ng1,\"two\nlines\"\ng2,plain\n", "accounts.csv")
    good, bad = _read(path, "accounts")
    assert good == [(2, "g1"), (4, "g2")] and bad == []


def test_a_huge_field_is_one_reject(tmp_path: Path) -> None:
    # Python's csv module stops the whole file with "field larger than field limit (131072)".
    huge = b"h1,device," + b"x" * 300_000 + b"\n"
    quoted_huge = b'h2,device,"' + b"y\n" * 100_000 + b'"\n'
    good, bad = _read(_csv(tmp_path, HEADER + b"g1,device,d1\n" + huge + b"g2,device,d2\n" + quoted_huge
                           + b"g3,device,d3\n"))
    assert [g[1] for g in good] == ["g1", "g2", "g3"]
    assert [b[0] for b in bad][:2] == [3, 5]
    assert all(b[0] == 3 or b[0] >= 5 for b in bad)


def test_malformed_csv_is_a_reject_not_an_exception(tmp_path: Path) -> None:
    good, bad = _read(_csv(tmp_path, HEADER + b'h1,device,"a"b\ng1,device,d1\nh2,"x"y,z\n'))
    assert good == [(3, "g1")] and [(b[0], b[1]) for b in bad] == [(2, "(row)"), (4, "(row)")]


def test_bytes_that_are_not_utf8_name_their_field(tmp_path: Path) -> None:
    body = b"g1,device,d1\nh1,device,caf\xe9\nh2,device,a\x00b\ng2,device,d2\n"
    path = _csv(tmp_path, b"\xef\xbb\xbf" + HEADER + body)
    good, bad = _read(path)
    assert good == [(2, "g1"), (5, "g2")]
    assert [(b[0], b[1]) for b in bad] == [(3, "value"), (4, "value")]
    assert "UTF-8" in bad[0][2] and "0xE9" in bad[0][2] and "control character" in bad[1][2]


def test_a_utf16_file_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = _csv(tmp_path, (HEADER + b"g1,device,d1\n").decode().encode("utf-16"))
    with pytest.raises(BundleError, match="UTF-16"):
        _read(path)


def test_a_file_without_a_header_does_not_print_its_first_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, b"a1,4111 1111 1111 1111,[bold]x\x1b[2J\na2,payment,pm_2\n")
    with pytest.raises(BundleError) as caught:
        _read(path)
    message = str(caught.value)
    assert "4111111111111111" not in message.replace(" ", "") and "411111******1111" in message
    assert "\x1b" not in message and "line 1" in message


def test_a_header_column_may_not_pose_as_a_reader_note(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="__row__"):
        _read(_csv(tmp_path, b"account_id,kind,value,__row__\ng1,device,d1,x\n"))


def test_jsonl_lines_that_are_not_objects_are_rejects(tmp_path: Path) -> None:
    lines = [
        json.dumps({"account_id": "g1", "kind": "device", "value": "d1"}),
        "[" * 20_000 + "]" * 20_000,  # deeper than the parser's recursion limit
        '{"account_id": "h2", "kind": "device", "value": "d", "count": ' + "9" * 5000 + "}",
        "{not json",
        "42",
        '{"account_id": "h5\\ud800", "kind": "device", "value": "d"}',
        json.dumps({"account_id": "g2", "kind": "device", "value": "d2"}),
        '{"account_id": "h7", "kind": "device", "value": "caf\xe9"}',
    ]
    path = tmp_path / "links.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8").replace("caf\xe9".encode(), b"caf\xe9") + b"\n")
    good, bad = _read(path)
    assert good == [(1, "g1"), (7, "g2")]
    assert [b[0] for b in bad] == [2, 3, 4, 5, 6, 8]


def test_a_truncated_gzip_keeps_the_rows_before_the_damage(tmp_path: Path) -> None:
    body = HEADER + b"".join(b"g%d,device,d%d\n" % (i, i) for i in range(20000))
    packed = gzip.compress(body)
    path = tmp_path / "links.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    good, bad = _read(path)
    assert len(good) > 1000 and good[0] == (2, "g0")
    assert len(bad) == 1 and bad[0][1] == "(file)" and "compressed" in bad[0][2]


def test_a_file_that_is_not_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "links.csv.gz"
    path.write_bytes(HEADER)
    with pytest.raises(BundleError, match="gzip"):
        _read(path)


def test_a_damaged_parquet_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "links.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100 + b"PAR1")
    with pytest.raises(BundleError, match="Parquet"):
        _read(path)


def test_lines_may_end_in_a_carriage_return_alone(tmp_path: Path) -> None:
    # "CSV (Macintosh)" from old spreadsheets; a quoted \r stays in its field.
    path = _csv(tmp_path, b'account_id,kind,value\rg1,device,"a\rb"\rg2,device,d2\r\ng3,device,d3\n')
    good, bad = _read(path)
    assert good == [(2, "g1"), (4, "g2"), (5, "g3")] and bad == []

"""Physical lines of a text file, and the CSV records they make, with one reject per malformed record.

Python's csv reader, left alone, lets a stray quote swallow every later line into one field (a small
file loses its remaining rows without a word, a large one stops with `csv.Error: field larger than
field limit`), stops at the first malformed record, and reads a line of any length into memory.
Here:

- lines are read at most `MAX_RECORD_CHARS` characters at a time; a longer line is reported and
  skipped without being held whole; lines end at `\n`, `\r\n` or `\r`, as the csv module expects;
- bytes that are not UTF-8 are expected as surrogate escapes (the reader opens files with
  `errors="surrogateescape"`), so the row's guard can name the field that holds them instead of the
  file failing;
- a record on one line that the strict csv dialect refuses (`"a"b`) is reported, and reading goes on;
- a record that spans lines is a quoted field with line breaks in it, or an unbalanced quote. It is
  kept when it closes within `MAX_RECORD_CHARS` and has the header's width; otherwise its first line
  (where the quote opened) is reported and the lines after it are read again as records of their own.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol

__all__ = ["MAX_RECORD_CHARS", "LongLine", "Record", "TextLines", "csv_records", "physical_lines"]

#: The longest record (or line) read. Below the csv module's own field limit (131,072), which
#: therefore never fires, and far above any valid row (fields are capped at 1,024 characters).
MAX_RECORD_CHARS: Final = 100_000
_SKIP_CHUNK: Final = 1 << 16
_HEAD_CHARS: Final = 200  # what is kept of a line too long to read
_LINE_ENDS: Final = ("\n", "\r")


class TextLines(Protocol):
    """A text stream read line by line."""

    def readline(self, size: int = -1, /) -> str: ...


@dataclass(frozen=True)
class LongLine:
    """A line longer than `MAX_RECORD_CHARS`: skipped, not read into memory, but for its start."""

    length: int
    head: str


@dataclass(frozen=True)
class Record:
    """The fields of the record starting on `line`, or why it could not be read (`fields` is None)
    and the start of its first line."""

    line: int
    fields: list[str] | None
    problem: str = ""
    text: str = ""


def physical_lines(stream: TextLines, start: int = 1) -> Iterator[tuple[int, str | LongLine]]:
    """(line number, text with its line ending) of a text stream whose first line is line `start`; a
    line too long to read is a LongLine."""
    number = start - 1
    while True:
        text = stream.readline(MAX_RECORD_CHARS + 1)
        if not text:
            return
        number += 1
        if len(text) > MAX_RECORD_CHARS and not text.endswith(_LINE_ENDS):
            head, length = text[:_HEAD_CHARS], len(text)
            while text and not text.endswith(_LINE_ENDS):
                text = stream.readline(_SKIP_CHUNK)
                length += len(text)
            yield number, LongLine(length, head)
            continue
        yield number, text


class _OverlongError(Exception):
    """Raised inside the csv reader's input when a line or a record is too long."""

    def __init__(self, line: int, length: int, head: str, *, inside_quote: bool) -> None:
        super().__init__(line)
        self.line = line
        self.length = length
        self.head = head
        self.inside_quote = inside_quote


def csv_records(lines: Iterator[tuple[int, str | LongLine]], width: int | None = None) -> Iterator[Record]:
    """The records of CSV text, the header first, or, given the header's `width`, the records after it;
    the header's width decides which multi-line records stand."""
    replay: deque[tuple[int, str | LongLine]] = deque()  # lines to read again after a failed record
    taken: list[tuple[int, str]] = []  # the lines of the record being read
    ended = False

    def feed() -> Iterator[str]:
        # The csv reader asks for another line only while its record is open: a non-empty `taken`
        # here means the last line ended inside a quoted field.
        nonlocal ended
        ended = False
        size = 0
        while True:
            item = replay.popleft() if replay else next(lines, None)
            if item is None:
                ended = True
                return
            number, text = item
            if isinstance(text, LongLine):
                if taken:  # the open record is unbalanced; the long line is reported after it
                    replay.appendleft(item)
                raise _OverlongError(number, text.length, text.head, inside_quote=bool(taken))
            if not taken:
                size = 0
            taken.append((number, text))
            size += len(text)
            if size > MAX_RECORD_CHARS:
                raise _OverlongError(number, size, taken[0][1][:_HEAD_CHARS], inside_quote=len(taken) > 1)
            yield text

    def unbalanced(why: str) -> Record:
        # The record's quote opened on its first line; the lines after it are records of their own.
        first, text = taken[0]
        replay.extendleft(reversed(taken[1:]))
        taken.clear()
        return Record(first, None, f"a quoted field opened on this line is not closed ({why}); line skipped", text)

    while True:
        reader = csv.reader(feed(), strict=True)
        try:
            for fields in reader:
                if len(taken) > 1 and width is not None and len(fields) != width:
                    yield unbalanced(f"the record it starts would have {len(fields)} fields, not {width}")
                    continue
                yield Record(taken[0][0], fields)
                if width is None and fields:
                    width = len(fields)
                taken.clear()
            return
        except csv.Error as error:
            if ended and taken:
                yield unbalanced("the file ends inside it")
            elif len(taken) > 1:
                yield unbalanced(str(error))
            elif taken:
                yield Record(taken[0][0], None, f"malformed CSV: {error}", taken[0][1])
                taken.clear()
        except _OverlongError as error:
            if error.inside_quote:
                yield unbalanced(f"no closing quote within {MAX_RECORD_CHARS:,} characters")
            else:
                yield Record(error.line, None, f"longer than {MAX_RECORD_CHARS:,} characters ({error.length:,})",
                             error.head)
                taken.clear()

"""The one way the product writes CSV: every cell made safe to open in a spreadsheet.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (`=HYPERLINK(...)`, `=cmd|...`), so a buyer's name or a
producer's note could run in the operator's spreadsheet (CSV/formula injection). Following the
OWASP rule, such a text cell is written with a leading single quote, which spreadsheets show as
text and do not evaluate. The full-width forms (＝ ＋ － ＠), which some spreadsheets in Asian
locales also accept, and the same characters after leading spaces are treated the same way.

Numbers we write ourselves stay numbers: a Python `int` (amounts in đồng, ids, quantities) can only
render as `-?digits`, which no spreadsheet evaluates as a formula, so a refund of −150000 stays
summable. Every other value, a string that looks like a number included, is text and neutralised.
Files start with a UTF-8 byte-order mark so Excel opens Vietnamese text correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence

from flask import Response, stream_with_context

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
BOM = "\ufeff"
_FLUSH_BYTES = 64 * 1024


def safe_cell(value: object) -> str | int:
    """One cell as it may be written: ints as they are, anything else as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.lstrip(" \u00a0")[:1] in FORMULA_STARTS:  # "" is not in the set: empty stays empty
        return "'" + text
    return text


def safe_row(row: Iterable[object]) -> list[str | int]:
    return [safe_cell(value) for value in row]


class SafeWriter:
    """csv.writer whose rows go through safe_cell(); CRLF line ends as RFC 4180 says."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._writer = csv.writer(buffer, lineterminator="\r\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow(safe_row(row))


def csv_text(header: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """A whole small CSV document (BOM, header, rows) as text."""
    buffer = io.StringIO(newline="")
    writer = SafeWriter(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return BOM + buffer.getvalue()


def csv_chunks(header: Sequence[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The same document in pieces of about 64 KB, for streaming long exports."""
    buffer = io.StringIO(newline="")
    buffer.write(BOM)
    writer = SafeWriter(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > _FLUSH_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(
    filename: str, header: Sequence[str], rows: Callable[[], Iterable[Iterable[object]]] | Iterable
) -> Response:
    """A streamed CSV download. `rows` may be a callable, called inside the request context."""

    def generate() -> Iterator[str]:
        yield from csv_chunks(header, rows() if callable(rows) else rows)

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

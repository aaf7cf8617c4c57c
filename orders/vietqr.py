"""VietQR (NAPAS) payloads: EMVCo merchant-presented QR for a bank transfer to an account.

Layout (ID, 2-digit length, value):
  00 "01" payload format · 01 "12" dynamic (it carries an amount) ·
  38 merchant account: 00 GUID "A000000727", 01 beneficiary (00 bank BIN, 01 account number),
     02 service code "QRIBFTTA" (transfer to an account) ·
  53 "704" (VND) · 54 amount · 58 "VN" · 62 additional data: 08 purpose (our payment code) ·
  63 CRC-16/CCITT-FALSE over everything before it, including "6304"."""

from __future__ import annotations

import binascii
import io
import re

import segno

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"


def tlv(tag: str, value: str) -> str:
    if len(tag) != 2 or not tag.isdigit():
        raise ValueError(f"bad tag {tag!r}")
    if len(value) > 99:
        raise ValueError(f"value of tag {tag} too long ({len(value)})")
    return f"{tag}{len(value):02d}{value}"


def crc16_ccitt_false(data: bytes) -> int:
    """Polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR ("123456789" -> 0x29B1):
    the standard library's CRC-CCITT started from 0xFFFF."""
    return binascii.crc_hqx(data, 0xFFFF)


def clean_note(note: str) -> str:
    """Bank apps accept plain ASCII letters, digits and spaces in the transfer note."""
    return re.sub(r"[^A-Za-z0-9 ]", "", note)[:25].strip()


def payload(*, bin_code: str, account: str, amount_vnd: int | None, note: str) -> str:
    if not re.fullmatch(r"\d{6}", bin_code or ""):
        raise ValueError("bank BIN must be 6 digits")
    if not re.fullmatch(r"[0-9A-Za-z]{1,19}", account or ""):
        raise ValueError("account number must be 1-19 letters or digits")
    beneficiary = tlv("00", bin_code) + tlv("01", account)
    merchant = tlv("00", NAPAS_GUID) + tlv("01", beneficiary) + tlv("02", SERVICE_TO_ACCOUNT)
    parts = [tlv("00", "01"), tlv("01", "12" if amount_vnd else "11"), tlv("38", merchant), tlv("53", "704")]
    if amount_vnd:
        if amount_vnd < 0:
            raise ValueError("amount must be positive")
        parts.append(tlv("54", str(int(amount_vnd))))
    parts.append(tlv("58", "VN"))
    note = clean_note(note)
    if note:
        parts.append(tlv("62", tlv("08", note)))
    body = "".join(parts) + "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def parse(data: str) -> dict[str, str]:
    """Split a payload into its top-level tags (tests and debugging)."""
    out, i = {}, 0
    while i < len(data):
        tag, length = data[i : i + 2], int(data[i + 2 : i + 4])
        out[tag] = data[i + 4 : i + 4 + length]
        i += 4 + length
    return out


def verify(data: str) -> bool:
    return (
        len(data) > 8
        and data[-8:-4] == "6304"
        and f"{crc16_ccitt_false(data[:-4].encode('ascii')):04X}" == data[-4:]
    )


def svg(data: str, *, scale: int = 5, title: str = "VietQR") -> str:
    """The QR as inline SVG (no file, no external image)."""
    return segno.make(data, error="m", micro=False).svg_inline(scale=scale, title=title)


def png(data: str, *, scale: int = 8) -> bytes:
    """The QR as a PNG file, for a buyer who pays from the phone showing it: saved to the photos,
    then opened in the bank app's "scan from image"."""
    out = io.BytesIO()
    segno.make(data, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()

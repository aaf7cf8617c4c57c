"""Control characters out of text at the edge: one rule for forms, the CSV import and mail headers.

A title with CR/LF breaks every mail header it is put in (and could add headers), a NUL breaks
PostgreSQL text and many tools, and the bidirectional overrides (U+202A–202E, U+2066–2069) make a
name read differently from what it is. Single-line text turns line breaks and tabs into spaces
and drops every other control character; multi-line text (descriptions, notes) keeps newlines
(CRLF, CR and the Unicode line separators become LF) and tabs, and drops the rest."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")

_BREAKS = "\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Unicode's control characters (category Cc) are exactly C0, DEL and C1.
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0)]
_DROPPED = {cp: None for cp in _CONTROLS if chr(cp) not in _BREAKS} | {ord(c): None for c in _BIDI_CONTROLS}

_SINGLE_LINE = str.maketrans({**_DROPPED, **{ord(c): " " for c in _BREAKS}})
_MULTI_LINE = str.maketrans({**_DROPPED, **{ord(c): "\n" for c in "\v\f\x1c\x1d\x1e\x85\u2028\u2029"}})


def single_line(value: T) -> T:
    """A one-line text without control characters; anything that is not a str is returned as is."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", " ").translate(_SINGLE_LINE)  # type: ignore[return-value]


def multi_line(value: T) -> T:
    """A text that keeps its lines (LF) and tabs, without any other control character."""
    if not isinstance(value, str):
        return value
    return value.replace("\r\n", "\n").replace("\r", "\n").translate(_MULTI_LINE)  # type: ignore[return-value]

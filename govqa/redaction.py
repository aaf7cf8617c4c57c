"""Personal data out of every public text: the automatic rules (the built-in ones below, always
applied, and the regular expressions the operator adds) and the operator's manual
redactions of one question. Originals stay in the database for the asker and staff; everything
public — pages, the API, the feeds, the search documents — goes through `public_*` here."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import nh3
from sqlalchemy import select

from marketplace.extensions import db

REPLACEMENT = "[đã ẩn]"
# An amount of money is not an ID number: digits followed by a currency word are left alone.
_NOT_MONEY = r"(?!\s*(?:đồng|đ\b|₫|vnđ|vnd|triệu|tỷ))"

# (name, pattern): the built-in rules, always applied before the operator's (qa_redaction_rules).
BUILTIN_RULES: tuple[tuple[str, str], ...] = (
    ("Địa chỉ email", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    # Mobile: 0 or +84/84, then 3|5|7|8|9 and 8 digits, spaces, dots or dashes between groups;
    # glued to a word too ("SĐT0912345678"), the prefix in brackets too ("(0912) 345 678").
    (
        "Số điện thoại di động",
        r"(?<![\d+(])\(?(?:\+?84|0)[\s.-]?\(?[35789](?:\)?[\s.-]?\d){8}(?!\d)",
    ),
    # Landline: 0 or +84, then 2 and 9 more digits (area code 2xx + subscriber), the area code
    # in brackets too ("(0239) 3855 123").
    (
        "Số điện thoại cố định",
        r"(?<![\d+(])\(?(?:\+?84|0)[\s.-]?\(?2(?:\)?[\s.-]?\d){9}(?!\d)",
    ),
    # Căn cước / CCCD (12 digits: 3-3-6, 3-3-3-3 or 4-4-4) and the old CMND (9 digits), possibly
    # grouped by spaces/dots. Not a sum of money ("100.000.000 đồng", "1.000.000.000").
    (
        "Số căn cước / CMND (12 số)",
        r"(?<![\d.,-])(?:\d{3}[\s.]?\d{3}[\s.]?(?:\d{6}|\d{3}[\s.]?\d{3})|\d{4}[\s.]?\d{4}[\s.]?\d{4})"
        r"(?![\d-]|[.,]\d)" + _NOT_MONEY,
    ),
    ("Số CMND (9 số)", r"(?<![\d.,-])\d{3}[\s.]?\d{3}[\s.]?\d{3}(?![\d-]|[.,]\d)" + _NOT_MONEY),
    # A house number before a street: "số 12 đường Trần Phú", "12/3 Nguyễn Du", "số nhà 45", or
    # after "địa chỉ:" — not a legal document's number ("Nghị định số 13/2023/NĐ-CP",
    # "Quyết định số 12/QĐ-UBND").
    (
        "Số nhà",
        r"(?i)\b(?:số\s+nhà|số|nhà)\s+(?!\d+(?:/\d+)*/[^\W\d_])\d+[a-z]?(?:/\d+[a-z]?)*\b"
        r"|\b\d+[a-z]?(?:/\d+[a-z]?)*(?=\s+(?:đường|phố|ngõ|ngách|hẻm|kiệt)\b)"
        # After "địa chỉ:" / "đ/c:" the number is a house's: "Địa chỉ: 45A Lê Lợi".
        r"|\b(?:địa\s+chỉ|đ/c)\s*:?\s*(?:số\s+)?\d+[a-z]?(?:/\d+[a-z]?)*\b",
    ),
)


@dataclass(frozen=True)
class Redactor:
    """The compiled rules and the question's manual phrases, applied in that order."""

    rules: tuple[tuple[re.Pattern[str], str], ...]
    phrases: tuple[str, ...] = ()

    def text(self, value: str | None) -> str:
        # Vietnamese typed or pasted decomposed (NFD: "ố" as o + two marks) reads as the same
        # words: rules and phrases meet the composed form (NFC), whichever form either came in.
        out = unicodedata.normalize("NFC", value or "")
        for phrase in self.phrases:
            if phrase:
                out = re.sub(
                    re.escape(unicodedata.normalize("NFC", phrase)), REPLACEMENT, out, flags=re.IGNORECASE
                )
        for pattern, replacement in self.rules:
            out = pattern.sub(replacement, out)
        return out

    def html(self, fragment: str | None) -> str:
        """Redact the text of a sanitised fragment, attribute values (link targets) included:
        replacements are plain words, so the fragment stays well formed; cleaned again anyway."""
        # The serialiser writes a no-break space (pasted text, rich editors) as "&nbsp;": the
        # rules read it as the space it is ("0912&nbsp;345&nbsp;678" is a phone number).
        # A phrase with "&", "<" or ">" stands escaped in the fragment ("A&amp;B"): both forms go.
        escaped = {html.escape(p, quote=False) for p in self.phrases} - set(self.phrases)
        redactor = self.with_phrases([*self.phrases, *escaped]) if escaped else self
        redacted = redactor.text((fragment or "").replace("&nbsp;", "\u00a0"))
        return nh3.clean(
            redacted,
            tags={"p", "br", "ul", "ol", "li", "a", "em", "strong", "b", "i", "blockquote"},
            attributes={"a": {"href", "title"}},
            url_schemes={"http", "https", "mailto"},
            link_rel="nofollow noopener noreferrer",
        )

    def with_phrases(self, phrases: list[str]) -> Redactor:
        return Redactor(self.rules, tuple(sorted(phrases, key=len, reverse=True)))


def compile_rules(rows: list[tuple[str, str]]) -> tuple[tuple[re.Pattern[str], str], ...]:
    compiled = []
    for pattern, replacement in rows:
        try:
            # The replacement is words, not a template: a backslash in it stays a backslash,
            # never an escape that would fail every public page at once.
            compiled.append((re.compile(pattern), (replacement or REPLACEMENT).replace("\\", "\\\\")))
        except re.error:
            continue  # refused when saved; a broken one never stops the others
    return tuple(compiled)


def builtin_redactor() -> Redactor:
    return Redactor(compile_rules([(pattern, REPLACEMENT) for _name, pattern in BUILTIN_RULES]))


def load_redactor(question_id: int | None = None) -> Redactor:
    from .models import ManualRedaction, RedactionRule

    rows = db.session.execute(
        select(RedactionRule.pattern, RedactionRule.replacement)
        .where(RedactionRule.active.is_(True))
        .order_by(RedactionRule.id)
    ).all()
    # The built-in rules always apply (personal data must not depend on a table's contents); the
    # operator's rules come after them.
    redactor = Redactor(builtin_redactor().rules + compile_rules([(r.pattern, r.replacement) for r in rows]))
    if question_id is not None:
        phrases = list(
            db.session.scalars(
                select(ManualRedaction.phrase).where(ManualRedaction.question_id == question_id)
            )
        )
        redactor = redactor.with_phrases(phrases)
    return redactor


def pattern_problem(pattern: str) -> str | None:
    """Why an operator's pattern cannot be a rule (None: fine)."""
    if not pattern or len(pattern) > 500:
        return "length"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return str(exc)
    if compiled.search("") is not None:
        return "empty"
    return None

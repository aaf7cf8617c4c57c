"""Formatted text of questions and answers: sanitised HTML (nh3), so no script, style, event
handler or javascript: link can ever be stored, let alone shown."""

from __future__ import annotations

import html
import re

import nh3

TAGS = {"p", "br", "ul", "ol", "li", "a", "em", "strong", "b", "i", "blockquote"}
ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_HTML = 50_000


def clean_html(raw: str | None) -> str:
    """Only paragraphs, lists, links and emphasis survive; links get rel="nofollow noopener"."""
    text = (raw or "")[:MAX_HTML]
    if "<" not in text:
        return plain_to_html(text)
    return nh3.clean(
        text,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    ).strip()


def plain_to_html(text: str) -> str:
    """Plain text typed in a box: blank lines make paragraphs, single newlines line breaks."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def html_to_text(fragment: str) -> str:
    """The words of a sanitised fragment (for search documents, feeds' summaries, mails)."""
    text = re.sub(r"<(br|/p|/li|/blockquote)\s*/?>", "\n", fragment or "", flags=re.I)
    text = nh3.clean(text, tags=set())
    return html.unescape(text).strip()

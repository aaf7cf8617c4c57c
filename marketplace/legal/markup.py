"""The text format of the legal pages: a small Markdown-like subset, rendered to safe HTML.

The operator types plain text; a few marks format it:

    # Heading            ## Subheading            ### Minor heading
    - item  or  * item   a bulleted list (an indented next line continues the item)
    1. item              a numbered list (the first number is kept: "3." starts at 3)
    **bold**   *italic* or _italic_   [text](https://…)
    a blank line between paragraphs; a single line break is kept as one

Links may go to http(s), mailto: and tel: addresses, or to a path on this site ("/chinh-sach-…");
anything else stays text. Everything else is text too: HTML typed into the page is shown as typed,
never interpreted. The result then goes through nh3 with the same short list of tags, so a mistake
here still cannot let other markup, attributes or URL schemes through."""

from __future__ import annotations

import html
import re

import nh3

TAGS = {"h2", "h3", "h4", "p", "br", "ul", "ol", "li", "strong", "em", "a"}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
MAX_SOURCE_CHARS = 100_000

_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*$")
_BULLET = re.compile(r"^[-*+]\s+(.+)$")
_NUMBER = re.compile(r"^(\d{1,4})[.)]\s+(.+)$")
# On text that is already escaped: `[label](url)`, the url without spaces or parentheses.
_LINK = re.compile(r"\[([^\[\]\n]+)\]\(([^()\s]+)\)")
_BOLD = re.compile(r"\*\*(\S(?:.*?\S)?)\*\*")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(\S(?:.*?\S)?)\*(?![*\w])")
_ITALIC_UNDERSCORE = re.compile(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)")


def _allowed_url(url: str) -> bool:
    lowered = url.strip().lower()
    if lowered.startswith(("http://", "https://")):
        return len(lowered) > len("https://")
    if lowered.startswith(("mailto:", "tel:")):
        return True
    # A path on this site; "//host" and "/\host" are other sites to a browser.
    return lowered.startswith("/") and not lowered.startswith(("//", "/\\"))


def _emphasis(escaped: str) -> str:
    out = _BOLD.sub(r"<strong>\1</strong>", escaped)
    out = _ITALIC_STAR.sub(r"<em>\1</em>", out)
    return _ITALIC_UNDERSCORE.sub(r"<em>\1</em>", out)


def _inline(text: str) -> str:
    """One block's text: escaped, then links and emphasis; emphasis never reaches inside a URL."""
    escaped = html.escape(text, quote=True)
    parts: list[str] = []
    position = 0
    for match in _LINK.finditer(escaped):
        parts.append(_emphasis(escaped[position : match.start()]))
        label, url = match.group(1), match.group(2)
        if _allowed_url(html.unescape(url)):
            parts.append(f'<a href="{url}">{_emphasis(label)}</a>')
        else:
            parts.append(_emphasis(match.group(0)))
        position = match.end()
    parts.append(_emphasis(escaped[position:]))
    return "".join(parts).replace("\n", "<br>")


def render(source: str) -> str:
    """The page's HTML: only the tags of TAGS, sanitised by nh3."""
    lines = (source or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag: str | None = None
    list_start = 1

    def end_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + _inline("\n".join(paragraph)) + "</p>")
            paragraph.clear()

    def end_list() -> None:
        nonlocal list_tag
        if list_tag and items:
            start = f' start="{list_start}"' if list_tag == "ol" and list_start != 1 else ""
            body = "".join(f"<li>{_inline(item)}</li>" for item in items)
            blocks.append(f"<{list_tag}{start}>{body}</{list_tag}>")
        items.clear()
        list_tag = None

    for raw in lines:
        stripped = raw.strip()
        if not stripped:
            end_paragraph()
            end_list()
            continue
        heading = _HEADING.match(stripped)
        if heading:
            end_paragraph()
            end_list()
            level = len(heading.group(1)) + 1  # the page title is the <h1>
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            continue
        bullet, number = _BULLET.match(stripped), _NUMBER.match(stripped)
        if bullet or number:
            end_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                end_list()
                list_tag = tag
                list_start = int(number.group(1)) if number else 1
            items.append(bullet.group(1) if bullet else number.group(2))  # type: ignore[union-attr]
            continue
        if list_tag and items and raw[:1] in (" ", "\t"):
            items[-1] += "\n" + stripped  # an indented line continues the item
            continue
        end_list()
        paragraph.append(stripped)
    end_paragraph()
    end_list()
    return nh3.clean(
        "".join(blocks),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )

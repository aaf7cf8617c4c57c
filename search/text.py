"""Vietnamese text normalisation shared by every backend: folding, tokens, synonyms, highlights.

Two forms of every text are indexed: the *exact* form (NFC, lower case, diacritics kept) and the
*folded* form (diacritics stripped, đ→d), so that "cam bu huong son" finds "Cam bù Hương Sơn"
while a query typed with the right marks still ranks exact matches first. Both backends fold
with fold() here: the engine indexes folded copies of the text fields
(search/engine/mapping.py), so there is one definition of a Vietnamese word."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from markupsafe import Markup, escape

_TOKEN = re.compile(r"[^\W_]+")
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def exact(text: str | None) -> str:
    """Lower case, composed (NFC) form: a word typed with marks matches only the same marks."""
    return unicodedata.normalize("NFC", text or "").lower()


def _slow_fold(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D")


# A constant table for str.translate (fast, in C): every Latin letter with marks (Vietnamese uses
# Latin-1, Extended-A/B and Extended Additional) to its base letter, combining marks removed.
_FOLD_TABLE: dict[int, str | None] = {
    cp: _slow_fold(chr(cp))
    for cp in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))
    if _slow_fold(chr(cp)) != chr(cp)
}
_FOLD_TABLE.update(dict.fromkeys(range(768, 880)))


def fold(text: str | None) -> str:
    """Lower case without diacritics; đ/Đ become d. "Đặc sản Hương Sơn" -> "dac san huong son"."""
    return unicodedata.normalize("NFC", text or "").translate(_FOLD_TABLE).lower()


def tokens(text: str | None) -> list[str]:
    """Words of an already normalised text (letters and digits; everything else separates)."""
    return _TOKEN.findall(text or "")


def folded_tokens(text: str | None) -> list[str]:
    return tokens(fold(text))


def exact_tokens(text: str | None) -> list[str]:
    return tokens(exact(text))


def plain_text(html: str | None, limit: int = 4000) -> str:
    """Listing descriptions are sanitised HTML; the index wants their words only."""
    text = _TAGS.sub(" ", html or "")
    for entity, char in (
        ("&nbsp;", " "),
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", '"'),
        ("&#39;", "'"),
    ):
        text = text.replace(entity, char)
    return _SPACES.sub(" ", text).strip()[:limit]


# --- synonyms --------------------------------------------------------------------------------


def parse_synonym_group(terms: str) -> list[str]:
    """ "quả, trái" -> ["quả", "trái"]: comma (or semicolon/newline) separated, blanks dropped,
    duplicates (after folding) removed, original spelling kept."""
    seen, out = set(), []
    for raw in re.split(r"[,;\n]", terms or ""):
        term = _SPACES.sub(" ", exact(raw)).strip()
        key = " ".join(folded_tokens(term))
        if key and key not in seen:
            seen.add(key)
            out.append(term)
    return out


def folded_synonym_groups(groups: Iterable[Sequence[str]]) -> list[list[tuple[str, ...]]]:
    """Each group as a list of folded token tuples; groups with fewer than two distinct terms vanish."""
    out = []
    for group in groups:
        terms = list(dict.fromkeys(tuple(folded_tokens(term)) for term in group))
        terms = [t for t in terms if t]
        if len(terms) > 1:
            out.append(terms)
    return out


def expand_synonyms(
    query_tokens: Sequence[str], groups: list[list[tuple[str, ...]]]
) -> list[list[tuple[str, ...]]]:
    """Split folded query tokens into spans; each span is a list of alternatives (token tuples).
    The longest synonym term matching at a position wins; other tokens stand alone.
    ["trai", "buoi"] with group [("qua",), ("trai",)] -> [[("trai",), ("qua",)], [("buoi",)]]"""
    spans: list[list[tuple[str, ...]]] = []
    i, n = 0, len(query_tokens)
    while i < n:
        best: tuple[int, list[tuple[str, ...]]] | None = None
        for group in groups:
            for term in group:
                size = len(term)
                if size and tuple(query_tokens[i : i + size]) == term and (best is None or size > best[0]):
                    best = (size, [term] + [t for t in group if t != term])
        if best is None:
            spans.append([(query_tokens[i],)])
            i += 1
        else:
            spans.append(best[1])
            i += best[0]
    return spans


# --- suggestions -----------------------------------------------------------------------------


def suggestion_ranker(text: str):
    """title -> how well it answers what is being typed, best first, the same on every backend:
    0 the words with their marks and the title begins with them, 1 the marks only, 2 the
    beginning only, 3 neither. "Cam bù Hương Sơn" comes before "Mứt vỏ cam bù" for "cam b"."""
    exact_words, words = exact_tokens(text), folded_tokens(text)
    if not words or not exact_words:
        return lambda title: 3

    def tier(title: str) -> int:
        have, folded = exact_tokens(title), folded_tokens(title)
        marked = all(w in have for w in exact_words[:-1]) and any(h.startswith(exact_words[-1]) for h in have)
        leading = (
            len(folded) >= len(words)
            and folded[: len(words) - 1] == words[:-1]
            and folded[len(words) - 1].startswith(words[-1])
        )
        return (0 if marked else 2) + (0 if leading else 1)

    return tier


# --- highlighting ----------------------------------------------------------------------------


def _render(text: str, ranges: list[tuple[int, int]]) -> Markup:
    """Escape `text` and wrap the character ranges in <mark>; nothing else becomes markup."""
    out, pos = [], 0
    for start, end in sorted(_merge(ranges)):
        out.append(str(escape(text[pos:start])))
        out.append("<mark>" + str(escape(text[start:end])) + "</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))  # noqa: S704 - every piece of text is escaped above


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# Highlighting runs on every hit of every page (titles and description snippets) and the same
# words recur across listings, so a word's folded form and its typo match are computed once.
@lru_cache(maxsize=50_000)
def _fold_word(word: str) -> str:
    return fold(word)


def _word_spans(text: str) -> list[tuple[int, int, str]]:
    """Words of the original text with their offsets and folded form (NFC input keeps offsets)."""
    return [(m.start(), m.end(), _fold_word(m.group())) for m in _TOKEN.finditer(text)]


@lru_cache(maxsize=50_000)
def _close(word: str, terms: frozenset[str]) -> bool:
    edits = max_edits(word)
    return bool(edits) and any(
        abs(len(t) - len(word)) <= edits and edit_distance(word, t, edits + 1) <= edits
        for t in terms
        if max_edits(t)
    )


def _matches(folded: str, terms: frozenset[str], prefix: str | None, fuzzy: bool) -> bool:
    return folded in terms or bool(prefix and folded.startswith(prefix)) or (fuzzy and _close(folded, terms))


def match_ranges(
    text: str, terms: set[str], prefix: str | None = None, fuzzy: bool = False
) -> list[tuple[int, int]]:
    frozen = frozenset(terms)
    return [
        (start, end) for start, end, folded in _word_spans(text) if _matches(folded, frozen, prefix, fuzzy)
    ]


def highlight(text: str | None, terms: set[str], prefix: str | None = None, fuzzy: bool = False) -> Markup:
    """Mark the words of `text` whose folded form is a query term (or starts with `prefix`, or,
    with `fuzzy`, is within the engine's typo tolerance of a term)."""
    text = unicodedata.normalize("NFC", text or "")
    return _render(text, match_ranges(text, terms, prefix, fuzzy))


def snippet(
    text: str | None, terms: set[str], prefix: str | None = None, size: int = 160, fuzzy: bool = False
) -> Markup | None:
    """A window of `text` around the first matching word, highlighted; None when nothing matches.
    Only the words up to the first match and those inside the window are looked at: descriptions
    run to thousands of characters and every hit of a page has one."""
    text = unicodedata.normalize("NFC", text or "")
    frozen = frozenset(terms)
    if not fuzzy:  # a word can only match if its letters are in the folded text: most are not
        folded_text = fold(text)
        if not any(term in folded_text for term in frozen) and not (prefix and prefix in folded_text):
            return None
    first = next(
        (m.start() for m in _TOKEN.finditer(text) if _matches(_fold_word(m.group()), frozen, prefix, fuzzy)),
        None,
    )
    if first is None:
        return None
    start = max(0, first - size // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    window = text[start:end]
    marked = _render(window, match_ranges(window, terms, prefix, fuzzy))
    return (Markup("…") if start else Markup()) + marked + ("…" if end < len(text) else "")


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Edits (insert, delete, substitute a letter, or swap two neighbours) from `a` to `b`: the
    optimal string alignment distance, which is what the engine's fuzzy matching counts
    (transpositions on), so "boui" is one edit from "buoi". Gives up (returning limit) once it
    cannot stay below `limit`: a row's minimum never decreases, swaps included."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    before: list[int] = []  # the row two letters of `a` back, for swaps
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb and ca != cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) >= limit:
            return limit
        before, previous = previous, current
    return min(previous[-1], limit)


def max_edits(word: str) -> int:
    """Typo tolerance by word length, as the engine's fuzziness AUTO:4,7 (Vietnamese words are
    short, so three-letter words must be exact): one edit from 4 letters, two from 7."""
    return 0 if len(word) <= 3 else 1 if len(word) <= 6 else 2

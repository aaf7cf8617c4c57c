"""Query understanding: what a Vietnamese shopper meant, before either backend sees the query.

Pure functions over a Vocabulary (the folded words of what is indexed and how often they occur,
search/vocabulary.py builds it from the database), shared by the embedded index, the engine and
the suggestions, so every backend forgives the same slips. A word the index knows is never
touched ("cam" stays "cam"); an unknown word is read, in this order, as

1. Telex or VNI residue, when the keyboard's Vietnamese input was off: "gaoj" -> "gạo",
   "neeps"/"ne61p" -> "nếp", "ddaauj" -> "đậu" — only when the result is a real Vietnamese
   syllable (onset and rhyme tables below, tone rules for p/t/c/ch endings);
2. words run together: "gaonep" -> "gạo nếp", split by dynamic programming into indexed
   syllables, fewest pieces first, then the most frequent;
3. a slip: the most frequent indexed word within the engine's typo tolerance (one edit from four
   letters, two from seven, swaps count as one: rapidfuzz's OSA distance), and for three-letter
   words one dropped vowel ("boi" -> "buoi", "nuc" -> "nuoc").

understand() answers the understood text (with the marks the index writes most often, shown as
"Đang hiển thị kết quả cho «gạo nếp»" and searched like a typed query, so the exact-marks boost
applies) and synonym-like groups that keep each original word as an alternative of its
understood form: the original and the understood forms are searched together. The last word is
being typed: a prefix of an indexed word is known, and once understood it stays a single word,
so the backends still match it as a prefix."""

from __future__ import annotations

import math
import unicodedata
from bisect import bisect_left
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from threading import Lock

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from . import text as vi

# --- Vietnamese syllables ----------------------------------------------------------------------

ACUTE, GRAVE, HOOK, TILDE, DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
TONE_MARKS = frozenset((ACUTE, GRAVE, HOOK, TILDE, DOT))
VOWELS = frozenset("aăâeêioôơuưy")
MODIFIED = frozenset("ăâêôơư")
ONSETS = sorted(
    [
        "ngh",
        "ng",
        "nh",
        "ch",
        "gh",
        "gi",
        "kh",
        "ph",
        "th",
        "tr",
        "qu",
        "b",
        "c",
        "d",
        "đ",
        "g",
        "h",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "x",
    ],
    key=len,
    reverse=True,
)
# Rhymes without a glide, then with the glide o- and u- (qu- takes the u- rhymes without the u).
# Loanword rhymes (oong, ooc) are left out: typed in Telex they read as ông, ôc.
BASE_RHYMES = frozenset(
    [
        "a",
        "ac",
        "ach",
        "ai",
        "am",
        "an",
        "ang",
        "anh",
        "ao",
        "ap",
        "at",
        "au",
        "ay",
        "ăc",
        "ăm",
        "ăn",
        "ăng",
        "ăp",
        "ăt",
        "âc",
        "âm",
        "ân",
        "âng",
        "âp",
        "ât",
        "âu",
        "ây",
        "e",
        "ec",
        "em",
        "en",
        "eng",
        "eo",
        "ep",
        "et",
        "ê",
        "êch",
        "êm",
        "ên",
        "ênh",
        "êp",
        "êt",
        "êu",
        "i",
        "ia",
        "ich",
        "im",
        "in",
        "inh",
        "ip",
        "it",
        "iu",
        "iêc",
        "iêm",
        "iên",
        "iêng",
        "iêp",
        "iêt",
        "iêu",
        "yêm",
        "yên",
        "yêt",
        "yêu",
        "o",
        "oc",
        "oi",
        "om",
        "on",
        "ong",
        "op",
        "ot",
        "ô",
        "ôc",
        "ôi",
        "ôm",
        "ôn",
        "ông",
        "ôp",
        "ôt",
        "ơ",
        "ơi",
        "ơm",
        "ơn",
        "ơp",
        "ơt",
        "u",
        "ua",
        "uc",
        "ui",
        "um",
        "un",
        "ung",
        "up",
        "ut",
        "uôc",
        "uôi",
        "uôm",
        "uôn",
        "uông",
        "uôt",
        "ư",
        "ưa",
        "ưc",
        "ưi",
        "ưm",
        "ưng",
        "ưt",
        "ưu",
        "ươc",
        "ươi",
        "ươm",
        "ươn",
        "ương",
        "ươp",
        "ươt",
        "ươu",
        "y",
    ]
)
GLIDE_RHYMES = frozenset(
    [
        "oa",
        "oac",
        "oach",
        "oai",
        "oam",
        "oan",
        "oang",
        "oanh",
        "oao",
        "oap",
        "oat",
        "oay",
        "oăc",
        "oăm",
        "oăn",
        "oăng",
        "oăt",
        "oe",
        "oem",
        "oen",
        "oeo",
        "oet",
        "uy",
        "uya",
        "uych",
        "uyn",
        "uynh",
        "uyp",
        "uyt",
        "uyu",
        "uyên",
        "uyêt",
        "uê",
        "uêch",
        "uênh",
        "uân",
        "uâng",
        "uât",
        "uây",
        "uơ",
    ]
)
RHYMES = BASE_RHYMES | GLIDE_RHYMES
FRONT = ("i", "e", "ê", "y")  # k, gh, ngh only before these; c, g, ng never
STOPS = ("c", "ch", "p", "t")  # endings that take only the acute or the dot below


def decompose(syllable: str) -> tuple[str, str | None] | None:
    """ "nếp" -> ("nêp", ACUTE): the letters with their vowel marks, and the tone mark (None for
    the level tone); None when a word carries two tones."""
    tones = [c for c in unicodedata.normalize("NFD", syllable.lower()) if c in TONE_MARKS]
    if len(tones) > 1:
        return None
    base = "".join(c for c in unicodedata.normalize("NFD", syllable.lower()) if c not in TONE_MARKS)
    return unicodedata.normalize("NFC", base), (tones[0] if tones else None)


def _rhyme_ok(onset: str, rhyme: str) -> bool:
    if onset == "qu":
        return (
            bool(rhyme)
            and not rhyme.startswith(("u", "ư"))
            and (rhyme in BASE_RHYMES or "u" + rhyme in RHYMES)
        )
    if onset == "gi":
        return rhyme == "" or (not rhyme.startswith("i") and (rhyme in RHYMES or "i" + rhyme in RHYMES))
    if rhyme not in RHYMES:
        return False
    if onset in ("k", "gh", "ngh"):
        return rhyme.startswith(FRONT)
    if onset in ("c", "g", "ng"):
        return not rhyme.startswith(FRONT)
    return True


def is_syllable(word: str) -> bool:
    """A real Vietnamese syllable, by its spelling: onset + rhyme from the tables, at most one
    tone, and endings in p/t/c/ch only with the acute or the dot below ("nếp", "gạo", not "nềp")."""
    parts = decompose(word)
    if parts is None or not parts[0]:
        return False
    base, tone = parts
    if not all(c in VOWELS or (c.isascii() and c.isalpha()) or c == "đ" for c in base):
        return False
    for onset in [*(o for o in ONSETS if base.startswith(o)), ""]:
        rhyme = base[len(onset) :]
        if _rhyme_ok(onset, rhyme):
            if tone not in (None, ACUTE, DOT) and rhyme.endswith(STOPS):
                continue
            return True
    return False


def place_tone(base: str, tone: str | None) -> str:
    """Put the tone mark on the right vowel (the traditional placement most sellers write: "hòa",
    "thủy"; search folds both placements alike): on the last vowel with a mark of its own (ươ ->
    ơ), else the last vowel before a final consonant, else the first of two vowels and the middle
    of three ("ngoài")."""
    if not tone:
        return base
    start = (
        2 if base.startswith("qu") or (base.startswith("gi") and len(base) > 2 and base[2] in VOWELS) else 0
    )
    i = start
    while i < len(base) and base[i] not in VOWELS:
        i += 1
    j = i
    while j < len(base) and base[j] in VOWELS:
        j += 1
    if i == j:
        return base
    marked = [k for k in range(i, j) if base[k] in MODIFIED]
    if marked:
        pos = marked[-1]
    elif j - i == 1 or j < len(base):
        pos = j - 1
    else:
        pos = i if j - i == 2 else i + 1
    return unicodedata.normalize("NFC", base[: pos + 1] + tone + base[pos + 1 :])


# --- Telex and VNI ---------------------------------------------------------------------------------

TELEX_TONES = {"s": ACUTE, "f": GRAVE, "r": HOOK, "x": TILDE, "j": DOT}
VNI_TONES = {"1": ACUTE, "2": GRAVE, "3": HOOK, "4": TILDE, "5": DOT}
CIRCUMFLEX = {"a": "â", "e": "ê", "o": "ô"}
HORN = {"o": "ơ", "u": "ư"}


def _last_run(out: list[str]) -> list[int]:
    """Positions of the last run of vowels typed so far (a modifier key acts on it, also after a
    final consonant: "duongw" -> "dương")."""
    end = len(out)
    while end and out[end - 1] not in VOWELS:
        end -= 1
    start = end
    while start and out[start - 1] in VOWELS:
        start -= 1
    return list(range(start, end))


def _horn_or_breve(out: list[str], horn: bool = True, breve: bool = True) -> bool:
    run = _last_run(out)
    letters = "".join(out[k] for k in run)
    for pair in ("uo", "ưo", "uơ"):
        at = letters.find(pair)
        if horn and at >= 0:
            out[run[at]], out[run[at + 1]] = "ư", "ơ"
            return True
    for k in reversed(run):
        if breve and out[k] == "a":
            out[k] = "ă"
            return True
        if horn and out[k] in HORN:
            out[k] = HORN[out[k]]
            return True
    if horn and not run:  # "nhw" -> "như"
        out.append("ư")
        return True
    return False


def _circumflex(out: list[str]) -> bool:
    for k in reversed(_last_run(out)):
        if out[k] in CIRCUMFLEX:
            out[k] = CIRCUMFLEX[out[k]]
            return True
    return False


def _finish(out: list[str], tone: str | None) -> str | None:
    base = "".join(out)
    base = base.replace("ưo", "ươ")
    for coda in ("i", "u", "c", "m", "n", "p", "t"):
        base = base.replace("uơ" + coda, "ươ" + coda)
    word = place_tone(base, tone)
    return word if is_syllable(word) else None


def from_telex(word: str) -> str | None:
    """ "gaoj" -> "gạo", "neeps" -> "nếp", "ddaauj" -> "đậu", "chef" -> "chè"; None when the word
    has no Telex key or does not become a real syllable. Tone keys (s f r x j, z clears) count
    after the first vowel only, where Vietnamese spelling has none of those letters."""
    out: list[str] = []
    tone: str | None = None
    keys = False
    for ch in word:
        vowel_seen = any(c in VOWELS for c in out)
        if vowel_seen and ch in TELEX_TONES:
            tone, keys = TELEX_TONES[ch], True
        elif vowel_seen and ch == "z":
            tone, keys = None, True
        elif ch == "d" and out == ["d"]:
            out[0], keys = "đ", True
        elif ch in CIRCUMFLEX and out and out[-1] == ch:
            out[-1], keys = CIRCUMFLEX[ch], True
        elif ch == "w":
            if not _horn_or_breve(out):
                return None
            keys = True
        elif "a" <= ch <= "z":
            out.append(ch)
        else:
            return None
    return _finish(out, tone) if keys else None


def from_vni(word: str) -> str | None:
    """ "gao5" -> "gạo", "ne61p" -> "nếp", "d9au65" -> "đậu"; None without a VNI digit or when the
    result is not a real syllable (so "st25" or "500g" stay as typed)."""
    out: list[str] = []
    tone: str | None = None
    keys = False
    for ch in word:
        vowel_seen = any(c in VOWELS for c in out)
        if ch in VNI_TONES and vowel_seen:
            tone = VNI_TONES[ch]
        elif ch == "0" and vowel_seen:
            tone = None
        elif ch == "6":
            if not _circumflex(out):
                return None
        elif ch == "7":
            if not _horn_or_breve(out, breve=False):
                return None
        elif ch == "8":
            if not _horn_or_breve(out, horn=False):
                return None
        elif ch == "9":
            if not out or out[0] != "d":
                return None
            out[0] = "đ"
        elif "a" <= ch <= "z":
            out.append(ch)
            continue
        else:
            return None
        keys = True
    return _finish(out, tone) if keys else None


def from_keys(word: str) -> tuple[str, str] | None:
    """(syllable, "telex" or "vni") for a word typed with the input method off, else None."""
    if not word.isascii() or not word.isalnum():
        return None
    if any(c.isdigit() for c in word):
        converted = from_vni(word)
        return (converted, "vni") if converted else None
    converted = from_telex(word)
    return (converted, "telex") if converted else None


# --- the vocabulary ----------------------------------------------------------------------------------


@dataclass
class Vocabulary:
    """Folded words of what is indexed (titles, origins, categories, shop names): in how many
    listings each occurs and its most frequent written form."""

    frequency: dict[str, int]
    spelling: dict[str, str]
    terms: list[str] = field(init=False)
    by_initial: dict[str, list[str]] = field(init=False)
    dropped_vowel: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.terms = sorted(self.frequency)
        self.by_initial = {}
        self.dropped_vowel = {}
        for term in self.terms:
            if len(term) >= 3 and term.isalpha():
                self.by_initial.setdefault(term[0], []).append(term)
            if len(term) == 4 and term.isalpha():
                for k in range(1, 4):
                    if term[k] in VOWELS:
                        self.dropped_vowel.setdefault(term[:k] + term[k + 1 :], []).append(term)
        self._cache: OrderedDict[tuple[str, bool, frozenset[str]], Understood | None] = OrderedDict()
        self._lock = Lock()

    @classmethod
    def from_documents(cls, documents: Iterable[Iterable[str | None]]) -> Vocabulary:
        """Each document is the texts of one listing; a word counts once per listing."""
        frequency: Counter[str] = Counter()
        written: Counter[str] = Counter()
        folded: dict[str, str] = {}
        for texts in documents:
            words = set(vi.exact_tokens(" ".join(t for t in texts if t)))
            written.update(words)
            for word in words:
                if word not in folded:
                    folded[word] = vi.fold(word)
            frequency.update({folded[word] for word in words})
        best: dict[str, tuple[int, bool, str]] = {}
        for word, count in written.items():
            key = folded[word]
            rank = (count, word != key, word)  # the most frequent, then one with marks
            if key not in best or rank > best[key]:
                best[key] = rank
        return cls(dict(frequency), {key: rank[2] for key, rank in best.items()})

    def __len__(self) -> int:
        return len(self.frequency)

    def knows(self, word: str, prefix: bool = False) -> bool:
        if word in self.frequency:
            return True
        if not prefix:
            return False
        at = bisect_left(self.terms, word)
        return at < len(self.terms) and self.terms[at].startswith(word)

    def written(self, word: str) -> str:
        return self.spelling.get(word, word)

    def split(self, word: str) -> list[str] | None:
        """ "gaonep" -> ["gao", "nep"]: indexed words of two letters or more, fewest pieces, then
        the most frequent; None when no split exists (or the word is one piece). A letter typed
        twice where two words meet counts once ("mattong" -> "mat ong")."""
        if len(word) < 4 or len(word) > 40 or not word.isalpha():
            return None
        found = self._split(word)
        if found is not None:
            return found[1]
        collapsed = [
            self._split(word[:k] + word[k + 1 :]) for k in range(1, len(word) - 2) if word[k] == word[k + 1]
        ]
        options = [option for option in collapsed if option is not None]
        return min(options)[1] if options else None

    def _split(self, word: str, max_piece: int = 7) -> tuple[tuple[int, float], list[str]] | None:
        n = len(word)
        best: list[tuple[int, float, int] | None] = [None] * (n + 1)
        best[0] = (0, 0.0, 0)
        for end in range(2, n + 1):
            for start in range(max(0, end - max_piece), end - 1):
                before = best[start]
                piece = word[start:end]
                if before is None or piece not in self.frequency:
                    continue
                cost = (before[0] + 1, before[1] - math.log(1 + self.frequency[piece]), start)
                current = best[end]
                if current is None or cost[:2] < current[:2]:
                    best[end] = cost
        final = best[n]
        if final is None or final[0] < 2:
            return None
        pieces, end = [], n
        while end:
            step = best[end]
            assert step is not None
            pieces.append(word[step[2] : end])
            end = step[2]
        return (final[0], final[1]), pieces[::-1]

    def correct(self, word: str) -> str | None:
        """The most frequent indexed word within the typo tolerance (same first letter, as the
        engine's prefix_length 1); three-letter words: one dropped vowel only."""
        if not word.isalpha():
            return None
        if len(word) == 3:
            found = self.dropped_vowel.get(word)
            return max(found, key=lambda t: (self.frequency[t], t)) if found else None
        edits = vi.max_edits(word)
        pool = self.by_initial.get(word[0]) if edits else None
        if not pool:
            return None
        matches = extract(word, pool, scorer=OSA.distance, score_cutoff=edits, limit=20)
        if not matches:
            return None
        return min(matches, key=lambda m: (m[1], -self.frequency[m[0]], m[0]))[0]

    # --- understanding, cached per vocabulary (it is rebuilt when the catalogue changes) ---

    def understand(
        self, text: str, prefix_last: bool = True, known: frozenset[str] = frozenset()
    ) -> Understood | None:
        """`known`: more words to leave alone, e.g. those of the synonym groups ("chả" is no
        slip for "chua" when the operator made it a synonym of "giò")."""
        key = (text, prefix_last, known)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = _understand(self, text, prefix_last, known)
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result


CACHE_SIZE = 20_000


@dataclass(frozen=True)
class Understood:
    """What to search instead of the typed text: `text` (with marks, shown to the user),
    `groups` (folded alternatives, the understood form first, the typed word after it, merged
    into the synonym groups) and the kinds of reading applied."""

    text: str
    groups: tuple[tuple[tuple[str, ...], ...], ...]
    kinds: tuple[str, ...]


def _understand(
    vocabulary: Vocabulary, text: str, prefix_last: bool, known: frozenset[str]
) -> Understood | None:
    words = vi.exact_tokens(text)
    if not words:
        return None
    out: list[str] = []
    groups: list[tuple[tuple[str, ...], ...]] = []
    kinds: list[str] = []
    for index, word in enumerate(words):
        folded = vi.fold(word)
        last = index == len(words) - 1
        if (
            folded != word  # typed with marks: meant as written
            or not folded.isalnum()
            or folded in known
            or vocabulary.knows(folded, prefix=prefix_last and last)
        ):
            out.append(word)
            continue
        understood: list[str] | None = None
        keyed = from_keys(word)
        if keyed is not None:
            understood, kind = [keyed[0]], keyed[1]
        elif not is_syllable(word) and (pieces := vocabulary.split(folded)) is not None:
            understood, kind = [vocabulary.written(p) for p in pieces], "split"
        elif (close := vocabulary.correct(folded)) is not None:
            understood, kind = [vocabulary.written(close)], "typo"
        if understood is None:
            out.append(word)
            continue
        out.extend(understood)
        kinds.append(kind)
        form = tuple(vi.fold(w) for w in understood)
        # The typed word stays an alternative (a slip is a guess: the word may be in descriptions,
        # which the vocabulary leaves out), except the last word read from Telex/VNI: alone, its
        # reading is still matched as the beginning of a word, as it is being typed.
        keep_prefix = last and prefix_last and len(form) == 1 and kind != "typo"
        if not keep_prefix and form != (folded,):
            groups.append((form, (folded,)))
    if not kinds:
        return None
    return Understood(" ".join(out), tuple(groups), tuple(dict.fromkeys(kinds)))


def merge_groups(
    synonyms: Sequence[Sequence[tuple[str, ...]]], understood: Sequence[Sequence[tuple[str, ...]]]
) -> list[list[tuple[str, ...]]]:
    """The operator's (folded) synonym groups with the understood alternatives: a group holding
    an understood form takes its typed word too, so "traif" -> "trái" still means "quả"."""
    merged = [list(group) for group in synonyms]
    extra = []
    for group in understood:
        form, alternatives = group[0], list(group[1:])
        homes = [g for g in merged if form in g]
        for home in homes:
            home.extend(a for a in alternatives if a not in home)
        if not homes:
            extra.append([form, *alternatives])
    return extra + merged

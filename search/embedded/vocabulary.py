"""The words a "did you mean" may offer, in memory: the folded words of titles, of origins and
categories, and of shop names, with how many documents hold each (summed over the three), per
generation, shared by the threads of a process.

Asking SQLite for them at every search that found nothing (fts5vocab over the whole index, then an
edit distance in Python for every word with the same first letter) cost tens of milliseconds per
misspelt word: fts5vocab decodes each word's full list of documents, descriptions included. Here
the list is read once from the narrow FTS tables (titles, shop_names, marked: a fraction of the
index), and candidates for a word come from an index of the words with one letter deleted, so a
correction costs a few dictionary lookups instead of a pass over the vocabulary.

The list is read again when the index changed and it is older than REFRESH_SECONDS. A word added
meanwhile is never "corrected": whether a word exists is asked of SQLite whenever the list does not
know it (runner.did_you_mean); a word added meanwhile is only not yet offered as a correction."""

from __future__ import annotations

import bisect
import os
import sqlite3
import threading
import time

from .. import text as vi

REFRESH_SECONDS = 60.0
# Temporary fts5vocab tables over the narrow FTS tables of the generation file (per connection).
_VOCAB_TABLES = (
    ("v_titles", "titles", "row", "SELECT term, doc FROM temp.v_titles"),
    ("v_shops", "shop_names", "row", "SELECT term, doc FROM temp.v_shops"),
    ("v_marked", "marked", "col", "SELECT term, doc FROM temp.v_marked WHERE col = 'o_exact'"),
)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Vocabulary:
    """Folded words with their document counts, and what finds the closest of them quickly."""

    def __init__(self, counts: dict[str, int], seq: int = 0):
        self.counts, self.seq, self.built = counts, seq, time.monotonic()
        self.sorted = sorted(counts)
        # One edit: a word and a candidate one edit apart (insertion, deletion, substitution or a
        # swap of neighbours) share a key among {the word} and its one-letter deletions.
        self.one_edit: dict[str, list[str]] = {}
        # Two edits (words of 7 letters and more, rare in Vietnamese): by first letter and length.
        self.by_length: dict[tuple[str, int], list[str]] = {}
        for term in self.sorted:
            if len(term) < 3:  # only words of four letters or more are corrected, one edit at most away
                continue
            for key in {term} | _deletions(term):
                self.one_edit.setdefault(key, []).append(term)
            if len(term) >= 5:
                self.by_length.setdefault((term[0], len(term)), []).append(term)

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def has_prefix(self, prefix: str) -> bool:
        at = bisect.bisect_left(self.sorted, prefix)
        return at < len(self.sorted) and self.sorted[at].startswith(prefix)

    def closest(self, word: str) -> str | None:
        """The word beginning with the same letter and within vi.max_edits(word) edits, fewest edits
        first, then most documents, then alphabetical; None when there is none."""
        edits = vi.max_edits(word)
        if not edits:
            return None
        if edits == 1:
            candidates = {t for key in {word} | _deletions(word) for t in self.one_edit.get(key, ())}
        else:
            candidates = {
                t
                for size in range(len(word) - edits, len(word) + edits + 1)
                for t in self.by_length.get((word[0], size), ())
            }
            candidates.update(t for key in {word} | _deletions(word) for t in self.one_edit.get(key, ()))
        best: tuple[int, int, str] | None = None
        for term in candidates:
            if term[0] != word[0]:
                continue
            distance = vi.edit_distance(word, term, edits + 1)
            if distance <= edits:
                key = (distance, -self.counts[term], term)
                if best is None or key < best:
                    best = key
        return best[2] if best else None


def read_vocabulary(conn: sqlite3.Connection, seq: int = 0) -> Vocabulary:
    """The vocabulary of the generation `conn` is open on, inside the caller's read transaction."""
    counts: dict[str, int] = {}
    for name, table, kind, select in _VOCAB_TABLES:
        conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{name} USING fts5vocab(main, {table}, {kind})")
        for term, docs in conn.execute(select):
            # marked holds origins and categories with their marks: folded here, as o_fold holds them
            key = vi.fold(term) if table == "marked" else term
            counts[key] = counts.get(key, 0) + docs
    return Vocabulary(counts, seq)


class VocabularyCache:
    """The vocabulary of the generation searched lately, shared by the threads of a process."""

    def __init__(self) -> None:
        self._cached: tuple[str, Vocabulary] | None = None
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def clear(self) -> None:
        with self._lock:
            self._cached = None

    def of(self, conn: sqlite3.Connection, g: str) -> Vocabulary:
        if self._pid != os.getpid():  # forked: a lock may have been held by a thread that is gone
            self._cached, self._lock, self._pid = None, threading.Lock(), os.getpid()
        seq = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        with self._lock:
            cached = self._cached
        if cached is not None and cached[0] == g:
            vocabulary = cached[1]
            if vocabulary.seq == seq or time.monotonic() - vocabulary.built < REFRESH_SECONDS:
                return vocabulary
        vocabulary = read_vocabulary(conn, seq)
        with self._lock:
            self._cached = (g, vocabulary)
        return vocabulary

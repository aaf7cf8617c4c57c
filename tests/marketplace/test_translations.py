"""The English catalogue covers every Vietnamese msgid in the code, and the app serves it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import refresh

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"

# The same options as the command that writes translations/messages.pot:
#   pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot --no-location \
#     --omit-header --ignore-dirs=".venv .cache node_modules tests bench tools" .
EXTRACT_ARGS = [
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "_l",
    "-k",
    "lazy_gettext",
    "--no-location",
    "--omit-header",
    "--ignore-dirs=.venv .cache node_modules tests bench tools",
]

# Every %-conversion, including %% and a lone % (Jinja's new-style gettext always applies `%`,
# so a stray percent sign in a translation breaks the page even without placeholders).
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]|%")


def _read(path: Path):
    with path.open("rb") as fh:
        return read_po(fh, locale="en")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    run = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", *EXTRACT_ARGS, "-o", str(pot), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    catalog = _read(pot)
    ids = [m.id for m in catalog if m.id]
    assert len(ids) > 100, "extraction found suspiciously few messages"
    return ids


@pytest.fixture(scope="module")
def english():
    return _read(PO_FILE)


def _key(msgid):
    return msgid if isinstance(msgid, str) else tuple(msgid)


def test_every_extracted_msgid_has_an_english_translation(extracted, english):
    missing = []
    for msgid in extracted:
        message = english.get(msgid)
        strings = (
            []
            if message is None
            else (list(message.string) if isinstance(message.string, (list, tuple)) else [message.string])
        )
        if message is None or not all(s and s.strip() for s in strings) or message.fuzzy:
            missing.append(_key(msgid))
    assert not missing, (
        f"{len(missing)} msgid(s) without an English translation in {PO_FILE.relative_to(ROOT)} "
        "(run pybabel extract + update, then translate):\n" + "\n".join(f"  {m!r}" for m in missing)
    )


def test_placeholders_match(extracted, english):
    wrong = []
    for msgid in extracted:
        message = english.get(msgid)
        if message is None or not message.string:
            continue  # reported by the test above
        ids = [msgid] if isinstance(msgid, str) else list(msgid)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        expected = sorted(PERCENT.findall(ids[-1]))
        for s in strings:
            if s and sorted(PERCENT.findall(s)) != expected:
                wrong.append(f"  {ids[0]!r}\n    -> {s!r}")
    assert not wrong, "placeholders differ between msgid and English msgstr:\n" + "\n".join(wrong)


def test_no_fuzzy_entries_left(english):
    fuzzy = [m.id for m in english if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries (translate them and clear the flag): {fuzzy!r}"


def test_english_home_page_from_the_catalogue(app, client, factory, csrf_off, tmp_path, monkeypatch):
    """Compile the .po as it is now (into a temp dir, not the working tree) and serve it."""
    mo_dir = tmp_path / "translations" / "en" / "LC_MESSAGES"
    mo_dir.mkdir(parents=True)
    with (mo_dir / "messages.mo").open("wb") as fh:
        write_mo(fh, _read(PO_FILE))
    monkeypatch.setattr(app.extensions["babel"], "translation_directories", [str(tmp_path / "translations")])

    factory.listing()
    refresh()  # the factory ran in the fixture's app context, where Flask-Babel cached "vi"
    assert "Mới lên sàn" in client.get("/").get_data(as_text=True)
    client.post("/ngon-ngu/en", data={"next": "/"})  # English is chosen with the switch
    english = client.get("/").get_data(as_text=True)
    assert "New on the floor" in english
    assert "Mới lên sàn" not in english
    assert "Sign in" in client.get("/dang-nhap").get_data(as_text=True)

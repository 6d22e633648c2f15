"""The English catalogue is complete, compiled, consistent, and actually served.

The msgids are the Simplified Chinese UI text; English comes from locale/en. The .po is
parsed here by hand (no polib dependency): enough of the PO format for what makemessages
writes — comments, flags, msgctxt, msgid/msgid_plural, msgstr/msgstr[n], continuation lines.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def label(self) -> str:
        return f"line {self.line}: {self.msgid!r}"


def _unquote(text: str) -> str:
    text = text.strip()
    assert text.startswith('"') and text.endswith('"'), f"not a PO string: {text}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Every non-obsolete entry of the file, the header (msgid "") excluded."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None  # which field continuation lines extend
    started = False

    def finish() -> None:
        nonlocal current, started, target
        if started and current.msgid:
            entries.append(current)
        current, started, target = Entry(), False, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):  # obsolete entries do not ship
            continue
        if line.startswith("#,"):
            if started and current.msgstr:
                finish()
            current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith("#"):
            if started and current.msgstr:
                finish()
            continue
        if line.startswith('"'):
            assert target is not None, f"{path}:{number}: continuation without a keyword"
            name, index = target
            value = _unquote(line)
            if name == "msgstr":
                current.msgstr[index] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in {"msgctxt", "msgid"} and current.msgstr:
            finish()  # a new entry begins without a blank line
        if not started:
            current.line = number
            started = True
        match = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        if keyword == "msgstr" or match:
            index = int(match.group(1)) if match else 0
            current.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        elif keyword in {"msgid", "msgid_plural", "msgctxt"}:
            setattr(current, keyword, _unquote(rest))
            target = (keyword, 0)
        else:
            raise AssertionError(f"{path}:{number}: unexpected line {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    parsed = parse_po(PO_PATH)
    assert parsed, f"no entries parsed from {PO_PATH}"
    return parsed


def _placeholders(text: str) -> set[str]:
    return {m.group(0) for m in _PLACEHOLDER.finditer(text)}


def test_catalogue_is_complete(entries: list[Entry]) -> None:
    untranslated = [
        e.label
        for e in entries
        if not e.msgstr
        or not all(e.msgstr.values())
        or (e.msgid_plural is not None and len(e.msgstr) < 2)
    ]
    fuzzy = [e.label for e in entries if "fuzzy" in e.flags]
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)


def test_compiled_catalogue_is_current(entries: list[Entry]) -> None:
    # gettext falls back to the msgid for an empty msgstr; completeness is checked above.
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in entries:
        if e.msgid_plural is None:
            expected = {1: e.msgstr.get(0) or e.msgid}
            if e.msgctxt is None:
                got = {1: compiled.gettext(e.msgid)}
            else:
                got = {1: compiled.pgettext(e.msgctxt, e.msgid)}
        else:
            expected = {1: e.msgstr.get(0) or e.msgid, 2: e.msgstr.get(1) or e.msgid_plural}
            if e.msgctxt is None:
                got = {n: compiled.ngettext(e.msgid, e.msgid_plural, n) for n in expected}
            else:
                got = {
                    n: compiled.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n) for n in expected
                }
        if got != expected:
            stale.append(f"{e.label}: .po {expected!r}, .mo {got!r}")
    assert not stale, (
        "django.mo is out of date; run `sanlian compilemessages -l en`:\n" + "\n".join(stale)
    )


def test_english_placeholders_match(entries: list[Entry]) -> None:
    mismatched = []
    for e in entries:
        for index, text in sorted(e.msgstr.items()):
            source = e.msgid if index == 0 or e.msgid_plural is None else e.msgid_plural
            want, got = _placeholders(source), _placeholders(text)
            if want != got:
                mismatched.append(f"{e.label} msgstr[{index}]: expected {want}, found {got}")
    assert not mismatched, "placeholders differ:\n" + "\n".join(mismatched)


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    assert "登录" in html


@pytest.mark.django_db
def test_login_page_in_english_after_choosing_it(client: Client) -> None:
    chosen = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert chosen.status_code == 302
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="en"' in html
    assert "Sign in" in html
    assert "用户名" not in html

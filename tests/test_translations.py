"""The catalogues: complete, in step with the code, with the right plural rules; amounts and counts read right."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask_babel import force_locale, ngettext, pgettext

from portal.core.i18n import money

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("ro", "ru", "en")
PLURAL_FORMS = {
    "ro": "nplurals=3; plural=(n==1 ? 0 : (n==0 || (n%100 > 0 && n%100 < 20)) ? 1 : 2);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "en": "nplurals=2; plural=(n != 1);",
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalogue(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def names(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_rule_of_each_language(lang):
    header = catalogue(lang).mime_headers
    assert dict(header)["Plural-Forms"] == PLURAL_FORMS[lang]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_translated_with_its_placeholders(lang):
    cat = catalogue(lang)
    problems = []
    for m in cat:
        if not m.id:
            continue
        plural = isinstance(m.id, (list, tuple))
        forms = list(m.string) if plural else [m.string]
        source = names(m.id[0]) | names(m.id[1]) if plural else names(m.id)
        if m.fuzzy:
            problems.append(("fuzzy", m.context, m.id))
        if plural and len(forms) != cat.num_plurals:
            problems.append(("plural forms", m.context, m.id))
        for form in forms:
            if not form:
                problems.append(("empty", m.context, m.id))
            elif not names(form) <= source or (not plural and names(form) != source):
                problems.append(("placeholders", m.context, m.id, form))
    assert problems == []


def test_catalogues_hold_every_string_of_the_code():
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
                "npgettext": ((1, "c"), 2, 3), "_l": None, "lazy_gettext": None}
    found = set()
    for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, keywords=keywords):
        found.add((context, message[0] if isinstance(message, tuple) else message))
    assert len(found) > 1000
    for lang in LANGUAGES:
        held = {(m.context, m.id[0] if isinstance(m.id, (list, tuple)) else m.id) for m in catalogue(lang) if m.id}
        assert sorted(found - held, key=str) == [], lang


def test_no_currency_word_written_by_code():
    """Amounts go through ``money``: no template or module puts the unit after a number itself."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if re.search(r"\}\}\s*lei\b", path.read_text()):
            offenders.append(str(path))
    for path in (ROOT / "portal").rglob("*.py"):
        text = path.read_text()
        if re.search(r"f\"[^\"\n]*\}\s*lei\b|\+\s*\" lei\"|\blei\" *%", text):
            offenders.append(str(path))
    assert offenders == []


@pytest.mark.parametrize("lang, amount, expected", [
    ("ro", 1, "1 leu"), ("ro", 5, "5 lei"), ("ro", 19, "19 lei"), ("ro", 20, "20 de lei"), ("ro", 101, "101 lei"),
    ("ro", Decimal("1500"), "1.500 de lei"), ("ro", Decimal("2.5"), "2,50 lei"), ("ro", 0, "0 lei"),
    ("ru", 1, "1 лей"), ("ru", 3, "3 лея"), ("ru", 5, "5 леев"), ("ru", 11, "11 леев"), ("ru", 21, "21 лей"),
    ("ru", Decimal("1500.00"), "1 500 леев"), ("ru", Decimal("2.5"), "2,50 лея"),
    ("en", 1, "1 leu"), ("en", 2, "2 lei"), ("en", Decimal("21350"), "21,350 lei"), ("en", Decimal("0.5"), "0.50 lei"),
])
def test_money_in_each_language(app, lang, amount, expected):
    with app.test_request_context(), force_locale(lang):
        assert money(amount).replace("\xa0", " ").replace("\u202f", " ") == expected


@pytest.mark.parametrize("lang, n, expected", [
    ("ro", 1, "1 zi"), ("ro", 2, "2 zile"), ("ro", 20, "20 de zile"), ("ro", 112, "112 zile"), ("ro", 120, "120 de zile"),
    ("ru", 1, "1 день"), ("ru", 3, "3 дня"), ("ru", 11, "11 дней"), ("ru", 21, "21 день"), ("ru", 25, "25 дней"),
    ("en", 1, "1 day"), ("en", 30, "30 days"),
])
def test_counts_take_the_plural_form_of_the_language(app, lang, n, expected):
    with app.test_request_context(), force_locale(lang):
        assert ngettext("%(num)s day", "%(num)s days", n) == expected


@pytest.mark.parametrize("lang", ("ro", "ru"))
def test_same_english_word_reads_by_its_use(app, lang):
    with app.test_request_context(), force_locale(lang):
        link = pgettext("a link that opens a notification", "Open")
        status = pgettext("status of a flag", "Open")
        column = pgettext("the date an application was sent", "Sent")
        delivered = pgettext("a message handed to the mail relay or SMS gateway", "Sent")
    assert link != status and column != delivered

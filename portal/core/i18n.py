"""Language selection and translation helpers.

The language is, in order: a language chosen in this browser session, the
account's saved language, the browser's Accept-Language, Romanian.  Source
strings are English; ``translations/`` holds the ro, ru and en catalogues.
"""
from __future__ import annotations

from decimal import Decimal

from flask import current_app, request, session
from flask_babel import force_locale, gettext, lazy_gettext  # noqa: F401 - re-exported
from flask_babel import format_decimal, get_translations, ngettext, pgettext  # noqa: F401
from flask_babel.speaklater import LazyString
from flask_login import current_user

LANGUAGE_NAMES = {"ro": "Română", "ru": "Русский", "en": "English"}
SESSION_KEY = "lang"


def supported() -> tuple[str, ...]:
    return current_app.config["ESOCIAL"].languages


def select_locale() -> str:
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    return choose_locale(session.get(SESSION_KEY), user.language if user is not None else None,
                         request.accept_languages if request else None)


def choose_locale(chosen: str | None, account_language: str | None, accept_languages,
                  languages: tuple[str, ...] | None = None, default: str | None = None) -> str:
    """The language, from what the browser session chose, the account's saved language and the browser's
    ``Accept-Language`` (a werkzeug ``LanguageAccept``), in that order, among ``languages`` (else ``default``;
    both from the settings unless given).  The application page's validator is computed with the same function
    before the request reaches Flask (``portal.citizen.fastpage``), which passes them."""
    if languages is None or default is None:
        settings = current_app.config["ESOCIAL"]
        languages, default = settings.languages, settings.default_language
    if chosen in languages:
        return chosen
    if account_language in languages:
        return account_language
    best = accept_languages.best_match(languages) if accept_languages is not None else None
    return best or default


def select_timezone() -> str:
    user = current_user if getattr(current_user, "is_authenticated", False) else None
    return choose_timezone(getattr(user, "timezone", None) if user is not None else None)


def choose_timezone(account_timezone: str | None, settings=None) -> str:
    return account_timezone or (settings or current_app.config["ESOCIAL"]).default_timezone


def localized(mapping: dict[str, str] | None, language: str, fallback: str = "ro") -> str:
    """Pick a language from a per-language mapping held in reference data."""
    if not mapping:
        return ""
    return mapping.get(language) or mapping.get(fallback) or next(iter(mapping.values()))


def lazy(translate) -> LazyString:
    """A string translated when it is shown, for module-level labels that need ``pgettext`` or ``ngettext``.

    ``lazy(lambda: pgettext("flag status", "Open"))``: the call stays literal, so extraction finds it with
    the standard keywords.
    """
    return LazyString(translate)


def money(amount) -> str:
    """An amount in lei, written for the current language: the number in the language's format and the
    unit in the form its grammar asks for ("1 leu", "5 lei", "20 de lei"; "1 лей", "2 лея", "5 леев").

    Whole amounts are written without decimals; others with two, and take the unit's form for fractions.
    Every amount a person reads goes through here: no code writes the unit itself.
    """
    value = Decimal(str(amount if amount is not None else 0)).quantize(Decimal("0.01"))
    if value == value.to_integral_value():
        number = format_decimal(value, format="#,##0")
        return ngettext("%(amount)s leu", "%(amount)s lei", int(abs(value)), amount=number)
    number = format_decimal(value, format="#,##0.00")
    return pgettext("an amount with a fractional part, e.g. 2.50", "%(amount)s lei", amount=number)


class Counted:
    """A sentence whose wording follows one of its figures, in the plural forms of the reader's language.

    ``pick`` gets the count and returns the translated sentence, not yet filled in: write it as
    ``lambda n: get_translations().ngettext("…%(count)s day…", "…%(count)s days…", n)`` so extraction finds it.
    """

    def __init__(self, figure: str, pick):
        self.figure = figure
        self.pick = pick

    def template(self, figures) -> str:
        return self.pick(count_of(figures.get(self.figure)))


def count_of(value) -> int:
    """A figure as the whole number that chooses a plural form (0 when it is not known)."""
    try:
        return abs(int(Decimal(str(value))))
    except (ArithmeticError, ValueError, TypeError):
        return 0


def template_of(sentence, figures) -> str:
    """The translated sentence for these figures: a :class:`Counted` chooses its plural form."""
    return sentence.template(figures) if isinstance(sentence, Counted) else str(sentence)

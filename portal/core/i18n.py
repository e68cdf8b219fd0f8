"""Language selection and translation helpers.

The language is, in order: a language chosen in this browser session, the
account's saved language, the browser's Accept-Language, Romanian.  Source
strings are English; ``translations/`` holds the ro, ru and en catalogues.
"""
from __future__ import annotations

from flask import current_app, request, session
from flask_babel import force_locale, gettext, lazy_gettext, ngettext  # noqa: F401 - re-exported
from flask_login import current_user

LANGUAGE_NAMES = {"ro": "Română", "ru": "Русский", "en": "English"}
SESSION_KEY = "lang"


def supported() -> tuple[str, ...]:
    return current_app.config["ESOCIAL"].languages


def select_locale() -> str:
    languages = supported()
    chosen = session.get(SESSION_KEY)
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    best = request.accept_languages.best_match(languages) if request else None
    return best or current_app.config["ESOCIAL"].default_language


def select_timezone() -> str:
    if getattr(current_user, "is_authenticated", False) and getattr(current_user, "timezone", None):
        return current_user.timezone
    return current_app.config["ESOCIAL"].default_timezone


def localized(mapping: dict[str, str] | None, language: str, fallback: str = "ro") -> str:
    """Pick a language from a per-language mapping held in reference data."""
    if not mapping:
        return ""
    return mapping.get(language) or mapping.get(fallback) or next(iter(mapping.values()))

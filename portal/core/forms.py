"""Base form: Flask-WTF with CSRF, translated messages."""
from __future__ import annotations

from flask_wtf import FlaskForm


class BaseForm(FlaskForm):
    """All eSocial forms derive from this; CSRF is on for every one.

    WTForms' own messages are translated through Flask-Babel (``WTF_I18N_ENABLED``).
    """

    def error_summary(self) -> list[tuple[str, str]]:
        """``(field id, message)`` pairs for the error summary at the top of a page."""
        items = []
        for field in self:
            for message in field.errors:
                items.append((field.id, message))
        return items

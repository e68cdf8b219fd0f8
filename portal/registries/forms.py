"""Forms of the registry pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.core.forms import BaseForm


class ReportForm(BaseForm):
    """"This is wrong": one per data item on the "My data" page (rendered with the item as prefix)."""

    note = TextAreaField(_l("What is wrong?"), validators=[
        DataRequired(message=_l("Write what is wrong, so the registry knows what to correct.")), Length(max=2000)])


class RectificationAnswerForm(BaseForm):
    status = RadioField(_l("What happened to the request?"), choices=[
        ("in_progress", _l("We are checking it")), ("corrected", _l("Corrected in the registry")),
        ("rejected", _l("Not corrected: the registry's data is right"))],
        validators=[InputRequired(message=_l("Choose what happened to the request."))])
    answer = TextAreaField(_l("Answer to the person"), validators=[Optional(), Length(max=2000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.status.data in ("corrected", "rejected") and not (self.answer.data or "").strip():
            self.answer.errors = list(self.answer.errors) + [_l("Write the answer the person will read.")]
            ok = False
        return ok

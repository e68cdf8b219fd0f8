"""Forms of eligibility: add offered benefits, ask for a human review, clear a flag."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import BaseForm


class OffersForm(BaseForm):
    benefits = SelectMultipleField(_l("Add to this application"), choices=[], validate_choice=False,
                                   validators=[DataRequired(message=_l("Choose at least one of the benefits offered."))])


class ReviewForm(BaseForm):
    note = TextAreaField(_l("What do you think is wrong? (optional)"), validators=[Optional(), Length(max=2000)])


class ClearFlagForm(BaseForm):
    reason = TextAreaField(_l("Why can this flag be cleared?"), validators=[
        DataRequired(message=_l("Say why you clear this flag.")), Length(max=2000)])

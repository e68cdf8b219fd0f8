from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional


class FilterForm(FlaskForm):
    """The dashboard's filters, read from the query string (a GET form: nothing changes, no CSRF token)."""

    class Meta:
        csrf = False

    date_from = DateField(_l("Submitted from"), validators=[Optional()])
    date_to = DateField(_l("Submitted until"), validators=[Optional()])
    benefit = SelectField(_l("Benefit"), choices=[], validators=[Optional()], validate_choice=True)
    agency = SelectField(_l("Agency"), choices=[], validators=[Optional()], validate_choice=True)

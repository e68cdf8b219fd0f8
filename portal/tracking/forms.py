from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from portal.core.forms import BaseForm


class LookupForm(BaseForm):
    number = StringField(_l("Application number"), validators=[
        InputRequired(message=_l("Enter the application number, like ES-2026-0000123.")), Length(max=40)])
    code = StringField(_l("Code from the receipt"), validators=[
        InputRequired(message=_l("Enter the code printed on the receipt.")), Length(max=20)])

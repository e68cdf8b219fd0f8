from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import InputRequired

from portal.core.forms import BaseForm


class ResidenceForm(BaseForm):
    country = SelectField(_l("Country where you live"), validators=[InputRequired()])
    timezone = SelectField(_l("Time zone for dates and times"), validators=[InputRequired()])


class DisplayForm(BaseForm):
    pass

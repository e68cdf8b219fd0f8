from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from portal.core.forms import BaseForm


class AppealForm(BaseForm):
    grounds = TextAreaField(_l("Why you disagree with the decision"), validators=[
        DataRequired(message=_l("Say why you disagree with the decision.")),
        Length(min=10, max=8000, message=_l("Say why you disagree with the decision."))])

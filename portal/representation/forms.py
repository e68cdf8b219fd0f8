from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.forms import BaseForm


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActForm(BaseForm):
    basis = HiddenField(validators=[InputRequired()])
    key = HiddenField(validators=[InputRequired()])


class StopForm(BaseForm):
    pass


class MandateForm(BaseForm):
    grantee_idnp = StringField(_l("Your representative's IDNP"), filters=[lambda v: (v or "").strip()],
                               validators=[InputRequired(message=_l("Enter the representative's IDNP.")),
                                           Regexp(r"^\d{13}$", message=_l("The IDNP has 13 digits."))])
    services = MultiCheckboxField(_l("Services the mandate covers"),
                                  validators=[DataRequired(message=_l("Choose the services the mandate covers."))])
    valid_until = DateField(_l("Valid until"), validators=[
        InputRequired(message=_l("Enter the last day of the mandate, for example 2027-12-31."))])
    agree = BooleanField(_l("I understand that my representative can apply for these services in my name until "
                            "this date, and that I can revoke the mandate at any time."),
                         validators=[DataRequired(message=_l("Confirm that you understand what the mandate "
                                                             "allows."))])

"""Forms of the agency administrator's integration pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.api import webhooks
from portal.citizen.forms import MultiCheckboxField
from portal.core.forms import BaseForm


class NewClientForm(BaseForm):
    client_id = StringField(_l("Client identifier"), validators=[
        DataRequired(message=_l("Enter an identifier for the system.")),
        Regexp(r"^[a-z0-9][a-z0-9-]{2,63}$", message=_l(
            "The client identifier must be 3 to 64 lower-case letters, digits or hyphens, "
            "starting with a letter or digit."))])
    name = StringField(_l("Name of the system"), validators=[
        DataRequired(message=_l("Enter the name of the system.")), Length(max=200)])
    agency = SelectField(_l("Agency"), choices=[], validate_choice=True)


class SecretForm(BaseForm):
    label = StringField(_l("Label (optional)"), validators=[Optional(), Length(max=100)])


class SubscriptionForm(BaseForm):
    url = StringField(_l("Address that receives the events"), validators=[
        DataRequired(message=_l("Enter the address that receives the events.")), Length(max=500)])
    events = MultiCheckboxField(_l("Events"), choices=[(e, e) for e in webhooks.EVENT_TYPES],
                                default=list(webhooks.EVENT_TYPES),
                                validators=[DataRequired(message=_l("Choose at least one event."))])

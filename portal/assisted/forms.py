"""Forms of the CUPS desk."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from portal.assisted.services import DOCUMENT_TYPES
from portal.core.forms import BaseForm
from portal.core.i18n import LANGUAGE_NAMES


def _language_field():
    return RadioField(_l("The visitor's language"), choices=list(LANGUAGE_NAMES.items()), default="ro",
                      validators=[InputRequired(message=_l("Choose the visitor's language."))])


class MPassVisitForm(BaseForm):
    centre = SelectField(_l("Centre"), validators=[InputRequired()])
    language = _language_field()


class DocumentVisitForm(BaseForm):
    centre = SelectField(_l("Centre"), validators=[InputRequired()])
    language = _language_field()
    idnp = StringField(_l("IDNP (personal identification number)"), filters=[lambda v: (v or "").strip()],
                       validators=[InputRequired(message=_l("Enter the visitor's IDNP.")),
                                   Regexp(r"^\d{13}$", message=_l("The IDNP has 13 digits."))])
    document_type = RadioField(_l("Identity document"), choices=list(DOCUMENT_TYPES.items()),
                               validators=[InputRequired(message=_l("Choose the type of identity document."))])
    document_number = StringField(_l("Series and number of the document"), validators=[
        InputRequired(message=_l("Enter the document's series and number.")), Length(max=32)])


class ConsentForm(BaseForm):
    signed = BooleanField(_l("The visitor read and signed the printed consent form, and I keep it."),
                          validators=[DataRequired(message=_l("Confirm that the visitor signed the form."))])


class EndForm(BaseForm):
    visit = HiddenField()

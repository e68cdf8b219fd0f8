"""Forms of the notification pages: the person's preferences, and retrying dead letters."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from portal.core.forms import BaseForm
from portal.core.i18n import LANGUAGE_NAMES
from portal.notifications.sms import to_e164


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PreferencesForm(BaseForm):
    """How a person wants to hear from eSocial. The portal's own notifications are always kept."""

    notify_email = BooleanField(_l("By e-mail"))
    email = StringField(_l("E-mail address"), filters=[_strip], validators=[Optional(), Length(max=254),
                                                          Email(message=_l("Enter an e-mail address like name@example.md"))])
    notify_sms = BooleanField(_l("By SMS"))
    phone = StringField(_l("Mobile phone number"), filters=[_strip], validators=[Optional(), Length(max=20)])
    language = RadioField(_l("Language of our messages"), choices=list(LANGUAGE_NAMES.items()),
                          validators=[InputRequired(message=_l("Choose a language."))])

    def validate_phone(self, field) -> None:
        if field.data and to_e164(field.data) is None:
            raise ValidationError(_l("Enter a mobile number like 069 123 456 or +373 69 123 456"))

    def validate(self, extra_validators=None) -> bool:
        """Empty fields skip their own validators (``Optional``): a chosen channel needs its address here."""
        ok = super().validate(extra_validators)
        if self.notify_email.data and not (self.email.data or "").strip():
            self.email.errors = list(self.email.errors) + [
                _l("Enter the e-mail address we should write to, or untick e-mail.")]
            ok = False
        if self.notify_sms.data and not (self.phone.data or "").strip():
            self.phone.errors = list(self.phone.errors) + [
                _l("Enter the mobile number we should text, or untick SMS.")]
            ok = False
        return ok


class RetryForm(BaseForm):
    """Retry one dead notification (``notification_id``) or all of them (``everything``)."""

    notification_id = HiddenField()
    everything = HiddenField()

"""Forms of the back office."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.core.forms import BaseForm


class RequestInfoForm(BaseForm):
    question = TextAreaField(_l("What must the applicant tell or send you?"), validators=[
        DataRequired(message=_l("Write what the applicant must tell or send you.")), Length(max=4000)])


class DecisionForm(BaseForm):
    decision = RadioField(_l("Decision"), choices=[("approved", _l("Approve")), ("rejected", _l("Reject"))],
                          validators=[InputRequired(message=_l("Choose approve or reject."))])
    reason = TextAreaField(_l("Reason given to the applicant"), validators=[Optional(), Length(max=4000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.decision.data == "rejected" and not (self.reason.data or "").strip():
            self.reason.errors = list(self.reason.errors) + [
                _l("Give the reason for the rejection: the applicant will read it.")]
            ok = False
        return ok

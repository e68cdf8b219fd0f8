"""Forms of the back office."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import BaseForm
from portal.routing.rules import CONDITION_KEYS


class RequestInfoForm(BaseForm):
    question = TextAreaField(_l("What must the applicant tell or send you?"), validators=[
        DataRequired(message=_l("Write what the applicant must tell or send you.")), Length(max=4000)])


class DecisionForm(BaseForm):
    claim = HiddenField()
    decision = RadioField(_l("Decision"), choices=[("approved", _l("Approve")), ("rejected", _l("Reject"))],
                          validators=[InputRequired(message=_l("Choose approve or reject."))])
    amount = DecimalField(_l("Amount granted, in lei"), places=2, validators=[
        Optional(), NumberRange(min=0.01, max=1_000_000, message=_l("Enter an amount greater than zero."))])
    period = SelectField(_l("Paid"), choices=[("monthly", _l("every month")), ("one_off", _l("once"))],
                         default="monthly")
    start_date = DateField(_l("Paid from"), validators=[Optional()])
    reason_code = SelectField(_l("Reason for a rejection"), validators=[Optional()])
    reason = TextAreaField(_l("Explanation given to the applicant"), validators=[Optional(), Length(max=4000)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.decision.data == "rejected" and not self.reason_code.data and not (self.reason.data or "").strip():
            self.reason.errors = list(self.reason.errors) + [
                _l("Give the reason for the rejection: the applicant will read it.")]
            ok = False
        if self.decision.data == "rejected" and self.reason_code.data == "other" and not (self.reason.data or "").strip():
            self.reason.errors = list(self.reason.errors) + [_l("Explain the reason in your own words.")]
            ok = False
        return ok


class TransferForm(BaseForm):
    agency = SelectField(_l("Send to"), validators=[DataRequired(message=_l("Choose an agency."))])
    reason = TextAreaField(_l("Why this agency handles it"), validators=[
        DataRequired(message=_l("Say why the case goes to another agency.")), Length(max=4000)])


class AssignForm(BaseForm):
    worker = SelectField(_l("Case worker"), validators=[Optional()])


class RoutingForm(BaseForm):
    """The rules themselves are read by :func:`parse_rules` (a table of rows, any number of them)."""

    reason = TextAreaField(_l("Why the rules change"), validators=[Optional(), Length(max=2000)])


def parse_rules(form, count: int) -> tuple[list[dict], list[str]]:
    """Rules from the rows ``rule-<i>-…`` of the routing page, and what is wrong with them, in plain words.

    Raions are codes separated by commas or spaces (``*`` for all); the target
    is ``agency:<code>`` or ``kind:<kind>``; conditions are ``fact=value`` pairs
    separated by commas (``value`` may be ``a|b``).
    """
    rules, errors = [], []
    for i in range(count):
        prefix = f"rule-{i}-"
        if form.get(prefix + "delete") == "delete":
            continue
        benefits = [b for b in form.getlist(prefix + "benefits") if b]
        raions = [x for x in form.get(prefix + "raions", "").replace(",", " ").split() if x]
        target = form.get(prefix + "target", "")
        if not benefits and not raions and not target:
            continue  # an empty row
        rule: dict = {"benefits": benefits, "raions": raions}
        kind, _, code = target.partition(":")
        if kind == "agency" and code:
            rule["agency"] = code
        elif kind == "kind" and code:
            rule["agency_kind"] = code
        else:
            errors.append(str(_l("Rule %(n)s: choose the agency.", n=i + 1)))
            continue
        if not benefits or not raions:
            errors.append(str(_l("Rule %(n)s: choose at least one benefit and one raion (or *).", n=i + 1)))
            continue
        conditions = {}
        for pair in form.get(prefix + "conditions", "").split(","):
            if not pair.strip():
                continue
            key, sep, value = pair.partition("=")
            if not sep or not key.strip() or not value.strip():
                errors.append(str(_l("Rule %(n)s: write conditions as fact=value.", n=i + 1)))
                break
            if key.strip() not in CONDITION_KEYS:
                errors.append(str(_l("Rule %(n)s: %(fact)s is not a fact a rule can test (%(facts)s).", n=i + 1,
                                     fact=key.strip(), facts=", ".join(CONDITION_KEYS))))
                break
            conditions[key.strip()] = value.strip()
        if conditions:
            rule["conditions"] = conditions
        rules.append(rule)
    return rules, errors

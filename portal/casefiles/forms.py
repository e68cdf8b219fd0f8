from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from wtforms import DateField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.casefiles import services
from portal.casefiles.models import RISK_LEVELS
from portal.core.forms import BaseForm
from portal.core.i18n import lazy

RISK_LABELS = {"low": lazy(lambda: pgettext("risk level", "low")), "medium": lazy(lambda: pgettext("risk level", "medium")),
               "high": lazy(lambda: pgettext("risk level", "high")),
               "critical": lazy(lambda: pgettext("risk level", "critical"))}
AREA_LABELS = {"income": _l("Income"), "housing": _l("Housing"), "health": _l("Health"),
               "disability": _l("Disability and care"), "children": _l("Children's care"),
               "education": _l("Education"), "employment": _l("Work"), "safety": _l("Safety")}
LEVEL_LABELS = {"none": _l("no need"), "some": _l("some need"), "serious": _l("serious need")}
PURPOSE_LABELS = {"assessment": _l("Assessing the household's needs"), "home_visit": _l("Preparing or recording a home visit"),
                  "plan_review": _l("Reviewing the plan of services"), "referral": _l("A referral between agencies"),
                  "supervision": _l("Supervision"), "decision_on_application": _l("Deciding an application of the household")}
PLAN_STATUS_LABELS = {"planned": _l("planned"), "in_progress": _l("in progress"), "done": _l("done"),
                      "cancelled": _l("cancelled")}
KIND_LABELS = {"service": _l("Service"), "intervention": _l("Intervention")}


class PurposeForm(BaseForm):
    purpose = RadioField(_l("Why do you open this case file?"), choices=list(PURPOSE_LABELS.items()),
                         validators=[InputRequired(message=_l("Say why you open this case file."))])
    note = TextAreaField(_l("Details (optional)"), validators=[Optional(), Length(max=500)])


class RiskForm(BaseForm):
    level = SelectField(_l("Risk level"), choices=[(r, RISK_LABELS[r]) for r in RISK_LEVELS])
    reason = TextAreaField(_l("Why"), validators=[DataRequired(message=_l("Say why.")), Length(max=2000)])


def assessment_form():
    class AssessmentForm(BaseForm):
        summary = TextAreaField(_l("Summary of the assessment"), validators=[Optional(), Length(max=8000)])

    for area in services.NEED_AREAS:
        setattr(AssessmentForm, f"area_{area}", SelectField(AREA_LABELS[area], choices=list(LEVEL_LABELS.items()),
                                                            default="none"))
    return AssessmentForm


class PlanForm(BaseForm):
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    description = TextAreaField(_l("Service or intervention"), validators=[
        DataRequired(message=_l("Describe the service or intervention.")), Length(max=4000)])
    responsible_agency = SelectField(_l("Responsible agency"))
    due_on = DateField(_l("By"), validators=[Optional()])


class PlanStatusForm(BaseForm):
    status = SelectField(_l("Status"), choices=list(PLAN_STATUS_LABELS.items()))


class VisitForm(BaseForm):
    visited_on = DateField(_l("Date of the visit"), validators=[InputRequired(message=_l("Enter the date."))])
    findings = TextAreaField(_l("What you found"), validators=[DataRequired(message=_l("Write what you found.")),
                                                               Length(max=8000)])
    next_visit_on = DateField(_l("Next visit"), validators=[Optional()])


class NoteForm(BaseForm):
    text = TextAreaField(_l("Note"), validators=[DataRequired(message=_l("Write the note.")), Length(max=8000)])


class ReferralForm(BaseForm):
    to_agency = SelectField(_l("Refer to"))
    reason = TextAreaField(_l("What the household needs from that agency"), validators=[
        DataRequired(message=_l("Say what the household needs from that agency.")), Length(max=4000)])


class ReferralAnswerForm(BaseForm):
    answer = RadioField(_l("Answer"), choices=[("accept", _l("Accept")), ("decline", _l("Decline"))],
                        validators=[InputRequired(message=_l("Accept or decline."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])


class CloseForm(BaseForm):
    reason = TextAreaField(_l("Why the case file is closed"), validators=[
        DataRequired(message=_l("Say why the case file is closed.")), Length(max=4000)])

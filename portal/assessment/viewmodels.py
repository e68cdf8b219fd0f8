"""What the citizen's check page, the citizen's application page and the case page show of eligibility."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import format_date, format_datetime, get_translations, pgettext
from flask_babel import lazy_gettext as _l

from portal.applications.models import Application, Claim
from portal.assessment import services
from portal.assessment.explain import PAID, Explainer, ResultView
from portal.assessment.models import CLEARED, OPEN, ClaimAssessment, RiskFlag
from portal.catalogue import Catalogue
from portal.core.i18n import Counted, lazy, localized, money, template_of
from portal.eligibility import Result
from portal.routing.reference import Territory

FLAGS = {
    "incompatible_in_application": _l("This application also asks for %(other_benefit)s, which is not granted "
                                      "together with this benefit."),
    "incompatible_in_household": _l("%(person)s is also in application %(number)s for %(other_benefit)s, which is "
                                    "not granted together with this benefit."),
    "duplicate_application": _l("The same applicant already has application %(number)s for this benefit, for "
                                "%(person)s."),
    "claimed_by_another": _l("Another applicant claims this benefit for %(person)s in application %(number)s."),
    "already_paid": _l("The social insurance house already pays %(person)s %(paid)s."),
    "declared_contradicts_registry": _l("The applicant says “%(item)s” from %(source)s is wrong: %(note)s"),
    "child_not_in_register": _l("The child chosen (IDNP %(child_idnp)s) is not among the births that %(source)s "
                                "records for the applicant."),
    "deceased_applicant": _l("The population register records the applicant as deceased on %(date)s."),
    "deceased_member": _l("The population register records %(person)s as deceased on %(date)s."),
    "income_above_threshold": _l("The household's income, %(income)s a month, is above the limit of %(threshold)s."),
    "shared_address": Counted("count", lambda n: get_translations().ngettext(
        "%(count)s different applicant gave this home address in the last year; more than %(limit)s is unusual.",
        "%(count)s different applicants gave this home address in the last year; more than %(limit)s is unusual.",
        n)),
    "shared_account": Counted("count", lambda n: get_translations().ngettext(
        "%(count)s different applicant gave this bank account in the last year; more than %(limit)s is unusual.",
        "%(count)s different applicants gave this bank account in the last year; more than %(limit)s is unusual.",
        n)),
}
SEVERITIES = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
RISK_LABELS = {0: _l("No flags"), 1: _l("Low risk"), 2: _l("Medium risk"), 3: _l("High risk")}
FLAG_STATUSES = {OPEN: lazy(lambda: pgettext("status of a flag", "Open")),
                 CLEARED: lazy(lambda: pgettext("status of a flag", "Cleared")),
                 "resolved": _l("No longer found")}


class _Params(dict):
    def __missing__(self, key):
        return "—"


def risk_label(level: int | None) -> str:
    return str(RISK_LABELS.get(level or 0, RISK_LABELS[0]))


@dataclass
class FlagView:
    id: int
    code: str
    severity: str
    severity_label: str
    text: str
    status: str
    status_label: str
    raised_at: str
    cleared_by: str | None
    cleared_at: str | None
    cleared_reason: str | None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


class CheckEligibility:
    """The check page: what the rules say about each benefit asked for, and what else is likely."""

    def __init__(self, application: Application, catalogue: Catalogue, territory: Territory, lang: str,
                 today: dt.date):
        explainer = Explainer(catalogue, territory, lang)
        self.results: list[ResultView] = [explainer.view(r) for r in
                                          services.results_for(application, today).values()]
        self.offers: list[ResultView] = [explainer.view(r) for r in
                                         services.offers_for(application, catalogue.benefits, today)]


class ClaimEligibility:
    """One claim's kept pre-assessment, for the citizen's application page."""

    def __init__(self, claim: Claim, assessment: ClaimAssessment, explainer: Explainer):
        self.claim_ref = claim.ref
        self.result = explainer.view(assessment.submitted_result)
        self.review_requested_at = (format_datetime(assessment.review_requested_at, format="short")
                                    if assessment.review_requested_at else None)


def for_citizen(application: Application, catalogue: Catalogue, territory: Territory, lang: str
                ) -> list[ClaimEligibility]:
    explainer = Explainer(catalogue, territory, lang)
    return [ClaimEligibility(c, c.assessment, explainer) for c in application.claims if c.assessment is not None]


class CaseEligibility:
    """The case page: the result the citizen saw when sending, a fresh one if the data changed, the flags."""

    def __init__(self, claim: Claim, catalogue: Catalogue, territory: Territory, lang: str):
        assessment: ClaimAssessment | None = claim.assessment
        worst = {"high": 0, "medium": 1, "low": 2}
        flags = sorted(claim.risk_flags, key=lambda f: (f.status != OPEN, worst.get(f.severity, 3), f.id))
        self.explainer = explainer = Explainer(catalogue, territory, lang)
        self.catalogue, self.territory, self.lang = catalogue, territory, lang
        benefit = catalogue.benefits.get(claim.benefit_code)
        self.title = benefit.title_in(lang) if benefit else claim.benefit_code
        self.risk_level = claim.risk_level or 0
        self.risk_label = risk_label(claim.risk_level)
        self.submitted = explainer.view(assessment.submitted_result) if assessment else None
        self.fresh: ResultView | None = None
        self.changed = False
        if assessment is not None and services.stamp(claim.application) != assessment.submitted_stamp:
            fresh = services.results_for(claim.application).get(claim.benefit_code)
            if fresh is not None:
                self.fresh = explainer.view(fresh)
                self.changed = not fresh.same_outcome(Result.from_dict(assessment.submitted_result))
        self.review_requested_at = None
        self.review_note = None
        if assessment is not None and assessment.review_requested_at:
            self.review_requested_at = format_datetime(assessment.review_requested_at, format="short")
            self.review_note = assessment.review_note
        self.flags = [self.flag_view(f) for f in flags]
        self.open_flags = [f for f in self.flags if f.is_open]

    def flag_view(self, f: RiskFlag) -> FlagView:
        return FlagView(
            id=f.id, code=f.code, severity=f.severity, severity_label=str(SEVERITIES.get(f.severity, f.severity)),
            text=template_of(FLAGS.get(f.code, f.code), f.params or {}) % self._params(f.params or {}), status=f.status,
            status_label=str(FLAG_STATUSES.get(f.status, f.status)),
            raised_at=format_datetime(f.raised_at, format="short"),
            cleared_by=f.cleared_by.full_name if f.cleared_by else None,
            cleared_at=format_datetime(f.cleared_at, format="short") if f.cleared_at else None,
            cleared_reason=f.cleared_reason)

    def _params(self, params: dict) -> _Params:
        out = _Params(params)
        if "other_benefit" in params:
            b = self.catalogue.benefits.get(params["other_benefit"])
            out["other_benefit"] = b.title_in(self.lang) if b else params["other_benefit"]
        if "item" in params:
            out["item"] = localized(self.catalogue.data_items.get(params["item"]), self.lang) or params["item"]
        if "source" in params:
            out["source"] = self.explainer.source(params["source"])
        if "paid" in params:
            out["paid"] = str(PAID.get(params["paid"], params["paid"]))
        if params.get("date"):
            out["date"] = format_date(dt.date.fromisoformat(params["date"]), format="long")
        for key in ("income", "threshold"):
            try:
                out[key] = money(Decimal(params[key]))
            except (KeyError, InvalidOperation, TypeError):
                pass
        return out

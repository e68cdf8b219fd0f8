"""The dashboard's aggregation queries. Every function returns counts or durations only: no name, IDNP or
reference leaves this module. :func:`suppress` hides any count under :data:`MIN_COUNT` for exports."""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.applications import status as st
from portal.applications.models import Application, Claim

MIN_COUNT = 5
CHANNELS = ("online", "cups", "representative", "diaspora")
HOME_COUNTRY = "MD"


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None  # submitted on or after
    date_to: dt.date | None = None  # submitted on or before
    benefit: str | None = None
    agency: str | None = None


def _claim_conditions(f: Filters) -> list:
    cond = [Application.submitted_at.is_not(None)]
    if f.date_from:
        cond.append(Application.submitted_at >= dt.datetime.combine(f.date_from, dt.time.min, dt.timezone.utc))
    if f.date_to and f.date_to < dt.date.max:
        cond.append(Application.submitted_at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min,
                                                                  dt.timezone.utc))
    if f.benefit:
        cond.append(Claim.benefit_code == f.benefit)
    if f.agency:
        cond.append(Claim.agency_code == f.agency)
    return cond


def channel_of(channel: str | None, country: str | None) -> str:
    """online | cups | representative | diaspora (an online application from an applicant living abroad)."""
    if channel == "assisted":
        return "cups"
    if channel == "representative":
        return "representative"
    if country and country.upper() != HOME_COUNTRY:
        return "diaspora"
    return "online"


def claims_by_benefit(session: Session, f: Filters) -> dict[str, int]:
    rows = session.execute(select(Claim.benefit_code, func.count(Claim.id)).join(Claim.application)
                           .where(*_claim_conditions(f)).group_by(Claim.benefit_code))
    return dict(sorted(((b, int(n)) for b, n in rows), key=lambda kv: (-kv[1], kv[0])))


def applications_by_raion(session: Session, f: Filters) -> dict[str, int]:
    """Applications (not claims) with at least one claim matching the filters, per raion of the applicant."""
    rows = session.execute(select(Application.raion_code, func.count(func.distinct(Application.id)))
                           .join(Claim, Claim.application_id == Application.id)
                           .where(*_claim_conditions(f)).group_by(Application.raion_code))
    return dict(sorted(((r or "unknown", int(n)) for r, n in rows), key=lambda kv: (-kv[1], kv[0])))


def applications_by_channel(session: Session, f: Filters) -> dict[str, int]:
    ids = select(Claim.application_id).join(Claim.application).where(*_claim_conditions(f)).distinct()
    rows = session.execute(select(Application.channel, Account.country, func.count(Application.id))
                           .join(Account, Account.id == Application.applicant_id)
                           .where(Application.id.in_(ids)).group_by(Application.channel, Account.country))
    out = dict.fromkeys(CHANNELS, 0)
    for channel, country, n in rows:
        out[channel_of(channel, country)] += int(n)
    return out


@dataclass
class AgencyRow:
    agency: str
    decided: int = 0
    approved: int = 0
    rejected: int = 0
    on_time: int = 0
    appealed: int = 0
    days: list[float] = field(default_factory=list, repr=False)

    @property
    def approval_rate(self) -> float | None:
        return round(self.approved / self.decided, 3) if self.decided else None

    @property
    def on_time_rate(self) -> float | None:
        return round(self.on_time / self.decided, 3) if self.decided else None

    @property
    def appeal_rate(self) -> float | None:
        return round(self.appealed / self.decided, 3) if self.decided else None

    @property
    def median_days(self) -> float | None:
        return round(statistics.median(self.days), 1) if self.days else None

    @property
    def p90_days(self) -> float | None:
        if not self.days:
            return None
        ordered = sorted(self.days)
        return round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1)


def agency_performance(session: Session, f: Filters, due_of=None) -> list[AgencyRow]:
    """Per agency, over claims decided (approved or rejected): processing time from submission to decision,
    deadline compliance (decided on or before the legal deadline ``due_of(claim, case)``), approval and appeal rates.

    ``due_of`` defaults to the back office's deadline rule (working days per benefit, paused while waiting).
    """
    from portal.backoffice.models import AgencyCase
    from portal.decisions.models import Appeal, Decision

    if due_of is None:
        from portal.backoffice.cases import claim_due as due_of
    rows = session.execute(
        select(Claim, AgencyCase).join(Claim.application)
        .outerjoin(AgencyCase, AgencyCase.id == Claim.case_id)
        .where(*_claim_conditions(f), Claim.decided_at.is_not(None),
               Claim.status.in_((st.APPROVED, st.REJECTED, st.APPEALED)))).all()
    appealed = set(session.scalars(select(Appeal.claim_id).distinct()))
    last_outcome = dict(session.execute(select(Decision.claim_id, Decision.outcome).order_by(Decision.id)).all())
    out: dict[str, AgencyRow] = {}
    for claim, case in rows:
        row = out.setdefault(claim.agency_code, AgencyRow(claim.agency_code))
        row.decided += 1
        outcome = claim.status
        if outcome == st.APPEALED:  # still counted as decided, with the outcome of the decision under appeal
            outcome = last_outcome.get(claim.id, st.REJECTED)
        row.approved += outcome == st.APPROVED
        row.rejected += outcome == st.REJECTED
        row.appealed += claim.id in appealed
        submitted = claim.application.submitted_at
        row.days.append((claim.decided_at - submitted).total_seconds() / 86400)
        if case is not None:
            try:
                due = due_of(claim, case)
            except (KeyError, LookupError):
                due = None
            if due is not None and claim.decided_at.date() <= due:
                row.on_time += 1
    return [out[a] for a in sorted(out)]


def flags(session: Session, f: Filters) -> dict[str, dict[str, int]] | None:
    """Cross-check flags raised and cleared, per flag code; ``None`` when the eligibility flags do not exist."""
    try:
        from portal.assessment.models import RiskFlag
    except ImportError:
        return None
    rows = session.execute(select(RiskFlag.code, func.count(RiskFlag.id), func.count(RiskFlag.cleared_at))
                           .join(Claim, Claim.id == RiskFlag.claim_id).join(Claim.application)
                           .where(and_(*_claim_conditions(f))).group_by(RiskFlag.code))
    return {code: {"raised": int(n), "cleared": int(c)} for code, n, c in sorted(rows)}


@dataclass
class Dashboard:
    filters: Filters
    by_benefit: dict[str, int]
    by_raion: dict[str, int]
    by_channel: dict[str, int]
    agencies: list[AgencyRow]
    flags: dict[str, dict[str, int]] | None


def dashboard(session: Session, f: Filters) -> Dashboard:
    return Dashboard(f, claims_by_benefit(session, f), applications_by_raion(session, f),
                     applications_by_channel(session, f), agency_performance(session, f), flags(session, f))


# --- export, with small counts suppressed -------------------------------------------------------------------------

def suppress(n: int | None) -> int | None:
    """``None`` (shown as "<5") for a count from 1 to 4, so nobody can be singled out; 0 stays 0."""
    if n is None:
        return None
    return None if 0 < n < MIN_COUNT else n


def _rate(numerator: int, denominator: int, value: float | None) -> float | None:
    """A rate is shown only when both counts it comes from are shown."""
    if suppress(numerator) is None or suppress(denominator) is None:
        return None
    return value


def export_rows(d: Dashboard) -> list[dict]:
    """Flat rows (figure, dimension, key, measure, value) with every count under 5 suppressed."""
    rows = []
    for key, n in d.by_benefit.items():
        rows.append({"figure": "claims", "dimension": "benefit", "key": key, "measure": "count", "value": suppress(n)})
    for key, n in d.by_raion.items():
        rows.append({"figure": "applications", "dimension": "raion", "key": key, "measure": "count",
                     "value": suppress(n)})
    for key, n in d.by_channel.items():
        rows.append({"figure": "applications", "dimension": "channel", "key": key, "measure": "count",
                     "value": suppress(n)})
    for a in d.agencies:
        shown = suppress(a.decided) is not None
        for measure, value in (("decided", suppress(a.decided)), ("approved", suppress(a.approved)),
                               ("rejected", suppress(a.rejected)), ("on_time", suppress(a.on_time)),
                               ("appealed", suppress(a.appealed)),
                               ("approval_rate", _rate(a.approved, a.decided, a.approval_rate)),
                               ("on_time_rate", _rate(a.on_time, a.decided, a.on_time_rate)),
                               ("appeal_rate", _rate(a.appealed, a.decided, a.appeal_rate)),
                               ("median_days", a.median_days if shown else None),
                               ("p90_days", a.p90_days if shown else None)):
            rows.append({"figure": "decisions", "dimension": "agency", "key": a.agency, "measure": measure,
                         "value": value})
    for code, counts in (d.flags or {}).items():
        for measure in ("raised", "cleared"):
            rows.append({"figure": "flags", "dimension": "code", "key": code, "measure": measure,
                         "value": suppress(counts[measure])})
    return rows


def filters_json(f: Filters) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in asdict(f).items()}

"""The ministry's dashboard: figures for policy, for analysts. Counts and durations only, never a person."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from portal.applications.services import catalogue
from portal.core.db import db
from portal.core.security import staff
from portal.figures import aggregates, charts
from portal.figures.forms import FilterForm
from portal.routing.reference import territory

bp = Blueprint("figures", __name__, url_prefix="/ministry")
ANALYST = "analyst"


def _lang() -> str:
    return str(get_locale() or "ro")


def _form() -> FilterForm:
    lang = _lang()
    form = FilterForm(request.args)
    form.benefit.choices = [("", _l("All benefits"))] + [(b.code, b.title_in(lang)) for b in catalogue()]
    form.agency.choices = [("", _l("All agencies"))] + sorted(
        ((code, a.name_in(lang)) for code, a in territory().agencies.items()), key=lambda kv: kv[1])
    return form


def _filters(form: FilterForm) -> tuple[aggregates.Filters, bool]:
    ok = form.validate()
    if not ok:
        return aggregates.Filters(), False
    return aggregates.Filters(form.date_from.data, form.date_to.data, form.benefit.data or None,
                              form.agency.data or None), True


@bp.get("/")
@staff(ANALYST)
def dashboard():
    form = _form()
    filters, ok = _filters(form)
    d = aggregates.dashboard(db.session, filters)
    lang = _lang()
    terr = territory()
    benefit_names = {b.code: b.title_in(lang) for b in catalogue()}
    agency_names = {code: a.name_in(lang) for code, a in terr.agencies.items()}
    raion_names = {code: r.name_in(lang) for code, r in terr.raions.items()}
    channel_names = {"online": _l("Online"), "cups": _l("At a CUPS (assisted)"),
                     "representative": _l("By a representative"), "diaspora": _l("Online from abroad (diaspora)")}
    s = aggregates.suppress

    def chart(title, items, **kw):
        return charts.bar_chart(str(title), items, **kw)

    by_benefit = [(benefit_names.get(k, k), s(v)) for k, v in d.by_benefit.items()]
    by_raion = [(raion_names.get(k, k), s(v)) for k, v in d.by_raion.items()]
    by_channel = [(str(channel_names[k]), s(v)) for k, v in d.by_channel.items()]
    agencies = [(agency_names.get(a.agency, a.agency), a) for a in d.agencies]
    return render_template(
        "figures/dashboard.html", form=form, filters_ok=ok, d=d, suppress=s, min_count=aggregates.MIN_COUNT,
        by_benefit=by_benefit, by_raion=by_raion, by_channel=by_channel, agencies=agencies,
        flag_rows=list((d.flags or {}).items()),
        charts={
            "benefit": chart(_l("Claims by benefit"), by_benefit),
            "raion": chart(_l("Applications by raion"), by_raion[:20]),
            "channel": chart(_l("Applications by channel"), by_channel),
            "days": chart(_l("Median days from submission to decision, per agency"),
                          [(n, a.median_days if s(a.decided) is not None else None) for n, a in agencies]),
            "on_time": chart(_l("Decided within the legal deadline, per agency"),
                             [(n, a.on_time_rate if s(a.decided) is not None else None) for n, a in agencies],
                             percent=True),
            "approval": chart(_l("Approval rate, per agency"),
                              [(n, a.approval_rate if s(a.decided) is not None else None) for n, a in agencies],
                              percent=True),
            "appeal": chart(_l("Appeal rate, per agency"),
                            [(n, a.appeal_rate if s(a.decided) is not None else None) for n, a in agencies],
                            percent=True),
        },
        query=request.query_string.decode())


@bp.get("/export.json")
@staff(ANALYST)
def export_json():
    filters, _ok = _filters(_form())
    d = aggregates.dashboard(db.session, filters)
    return jsonify({"filters": aggregates.filters_json(filters), "suppressed_below": aggregates.MIN_COUNT,
                    "rows": aggregates.export_rows(d)})


@bp.get("/export.csv")
@staff(ANALYST)
def export_csv():
    filters, _ok = _filters(_form())
    d = aggregates.dashboard(db.session, filters)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["figure", "dimension", "key", "measure", "value"])
    writer.writeheader()
    for row in aggregates.export_rows(d):
        writer.writerow({**row, "value": "<5" if row["value"] is None and row["measure"] in (
            "count", "decided", "approved", "rejected", "on_time", "appealed", "raised", "cleared") else
            ("" if row["value"] is None else row["value"])})
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="esocial-figures.csv"'})

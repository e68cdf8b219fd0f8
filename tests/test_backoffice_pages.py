"""The back office pages through the test client: who reaches what, and the forms behind each action."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from backoffice_helpers import csrf, person, staff, submitted
from portal.audit.models import AuditEvent
from portal.backoffice.models import AgencyCase
from portal.casefiles.models import CaseFile
from portal.core.db import db
from portal.decisions.models import Appeal, Decision
from portal.routing.models import RoutingRuleVersion
from portal.routing.rules import load_rules


@pytest.fixture
def world(app, login):
    """Ion (Ialoveni) applied for social aid and the birth allowance; staff of three agencies and every role."""
    with app.app_context():
        s = db.session
        ion = person(s, "Ion", "Rusu", language="en")  # the pages are read in English
        other = person(s, "Ana", "Străin", language="en")
        people = {
            "ion": ion, "other": other,
            "elena": staff(s, "Elena", "Vasilache", ("case_worker", "ATAS-CENTRU")),
            "ana": staff(s, "Ana", "Moraru", ("case_worker", "ATAS-CENTRU")),
            "victor": staff(s, "Victor", "Grosu", ("supervisor", "ATAS-CENTRU"), ("case_worker", "ATAS-CENTRU")),
            "sergiu": staff(s, "Sergiu", "Bodiu", ("case_worker", "ATAS-NORD-EST")),
            "olga": staff(s, "Olga", "Turcan", ("case_worker", "CNAS")),
            "irina": staff(s, "Irina", "Popa", ("agency_admin", "ATAS-CENTRU")),
            "anac": staff(s, "Ana", "Ciobanu", ("sysadmin", None)),
            "dumitru": staff(s, "Dumitru", "Rotaru", ("analyst", None)),
        }
        application = submitted(s, ion, ["social_aid", "birth_allowance"])
        s.commit()
        refs = {"application": application.ref,
                "atas": s.scalar(select(AgencyCase.ref).where(AgencyCase.agency_code == "ATAS-CENTRU")),
                "cnas": s.scalar(select(AgencyCase.ref).where(AgencyCase.agency_code == "CNAS")),
                "claim": next(c.ref for c in application.claims if c.benefit_code == "social_aid")}
        for p in people.values():
            s.expunge(p)

    clients = {}

    def client_for(name):
        if name not in clients:
            clients[name] = app.test_client()
            login(clients[name], people[name])
        return clients[name]

    return people, refs, client_for


def test_each_role_reaches_only_its_pages(world):
    people, refs, c = world
    case_url = f"/backoffice/cases/{refs['atas']}"
    assert c("elena").get(case_url).status_code == 200
    assert c("elena").get(f"/backoffice/cases/{refs['claim']}").status_code == 200  # a claim names its case
    for name in ("sergiu", "olga"):  # other agencies: as if it did not exist
        assert c(name).get(case_url).status_code == 404
    assert c("olga").get(f"/backoffice/cases/{refs['cnas']}").status_code == 200
    for name in ("irina", "dumitru", "ion"):
        assert c(name).get(case_url).status_code == 403
    assert c("dumitru").get("/backoffice/").headers["Location"].endswith("/backoffice/figures")
    assert c("irina").get("/backoffice/").headers["Location"].endswith("/backoffice/admin/routing")
    for name in ("elena", "dumitru", "ion", "irina"):
        assert c(name).get("/backoffice/admin/routing").status_code == (200 if name == "irina" else 403)
    assert c("elena").get("/backoffice/figures").status_code == 403
    assert c("ion").get("/backoffice/figures").status_code == 403


def test_the_analyst_sees_figures_never_a_person(world):
    people, refs, c = world
    page = c("dumitru").get("/backoffice/figures").get_data(as_text=True)
    assert "Agency Centru (Ialoveni)" in page and "National Social Insurance House" in page
    assert "Rusu" not in page and people["ion"].idnp not in page and refs["atas"] not in page


def test_every_opening_of_a_case_is_logged_with_who_and_why(app, world):
    people, refs, c = world
    c("elena").get(f"/backoffice/cases/{refs['atas']}")
    c("victor").get(f"/backoffice/cases/{refs['atas']}")
    c("sergiu").get(f"/backoffice/cases/{refs['atas']}")  # refused: nothing shown, nothing logged as read
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.actor_idnp, AuditEvent.details).where(
            AuditEvent.action == "case_viewed")).all()
    assert [(a, d["purpose"]) for a, d in rows] == [(people["elena"].idnp, "agency_queue"),
                                                    (people["victor"].idnp, "supervision")]


def test_the_queue_is_read_a_page_at_a_time_with_plain_links(app, world, monkeypatch):
    from portal.backoffice import queries

    people, refs, c = world
    with app.app_context():
        numbers = [submitted(db.session, person(db.session, f"P{i}", "Coadă", language="en"), ["social_aid"],
                             submitted_at=dt.datetime(2026, 1, 1 + i, tzinfo=dt.timezone.utc)).number
                   for i in range(4)]
        db.session.commit()
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)  # five cases of ATAS Centru (Ion's and four more), two a page
    ana = c("ana")
    seen, url, pages = [], "/backoffice/", 0
    while url:
        page = ana.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        pages += 1
        assert "5 cases are open or waiting for the applicant" in html
        assert 'aria-label="Pages of the queue"' in html
        rows = re.findall(r'href="/backoffice/cases/[^"#]+">(ES-[^<]+)</a>', html)
        assert len(rows) == (2 if pages < 3 else 1)
        seen += rows
        if pages > 1:
            assert "First page" in html and 'rel="prev"' in html and "Decided recently" not in html
        nxt = re.search(r'<a rel="next" href="([^"]+)">Next 2 cases</a>', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert pages == 3 and len(set(seen)) == 5 and set(numbers) <= set(seen)
    previous = re.search(r'<a rel="prev" href="([^"]+)">Previous 2 cases</a>', html).group(1).replace("&amp;", "&")
    back = ana.get(previous).get_data(as_text=True)
    assert re.findall(r'href="/backoffice/cases/[^"#]+">(ES-[^<]+)</a>', back) == seen[2:4]
    # A case taken by a worker leaves the queue's pages for their own list.
    taken = ana.post("/backoffice/next", data={"csrf_token": csrf(back)})
    assert taken.status_code == 303
    first = ana.get("/backoffice/").get_data(as_text=True)
    assert "My cases" in first and "4 cases are open or waiting for the applicant" in first
    assert first.count(f">{seen[0]}</a>") == 1


def test_take_next_from_the_queue_then_transfer(app, world):
    people, refs, c = world
    elena = c("elena")
    queue = elena.get("/backoffice/").get_data(as_text=True)
    assert "Take the next case" in queue and refs["claim"] in queue
    taken = elena.post("/backoffice/next", data={"csrf_token": csrf(queue)})
    assert taken.headers["Location"].endswith(f"/backoffice/cases/{refs['atas']}")
    nothing = elena.post("/backoffice/next", data={"csrf_token": csrf(queue)})
    assert nothing.headers["Location"].endswith("/backoffice/")
    page = elena.get(f"/backoffice/cases/{refs['atas']}").get_data(as_text=True)
    assert "Assigned to Elena Vasilache." in page and 'name="transfer-agency"' in page
    missing_reason = elena.post(f"/backoffice/cases/{refs['atas']}/transfer",
                                data={"csrf_token": csrf(page), "transfer-agency": "ATAS-NORD-EST"})
    assert missing_reason.status_code == 400
    moved = elena.post(f"/backoffice/cases/{refs['atas']}/transfer",
                       data={"csrf_token": csrf(page), "transfer-agency": "ATAS-NORD-EST",
                             "transfer-reason": "Familia s-a mutat la Soroca."})
    assert moved.status_code == 303
    assert elena.get(f"/backoffice/cases/{refs['atas']}").status_code == 404
    assert c("sergiu").get(f"/backoffice/cases/{refs['atas']}").status_code == 200
    citizen = c("ion").get(f"/applications/{refs['application']}").get_data(as_text=True)
    assert "Nord-Est" in citizen and "Familia s-a mutat la Soroca." in citizen


def test_supervisor_assigns_from_the_case_page(app, world):
    people, refs, c = world
    victor = c("victor")
    page = victor.get(f"/backoffice/cases/{refs['atas']}").get_data(as_text=True)
    assert 'name="worker"' in page
    assert c("elena").get(f"/backoffice/cases/{refs['atas']}").get_data(as_text=True).count('name="worker"') == 0
    response = victor.post(f"/backoffice/cases/{refs['atas']}/assign",
                           data={"csrf_token": csrf(page), "worker": str(people["ana"].id)})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(AgencyCase.assigned_to_id).where(AgencyCase.ref == refs["atas"])) == people["ana"].id
    own = c("elena").get(f"/backoffice/cases/{refs['atas']}").get_data(as_text=True)
    refused = c("elena").post(f"/backoffice/cases/{refs['atas']}/assign",
                              data={"csrf_token": csrf(own), "worker": str(people["elena"].id)})
    assert refused.status_code == 403


def test_decide_download_the_letter_and_appeal(app, world):
    people, refs, c = world
    elena = c("elena")
    page = elena.get(f"/backoffice/cases/{refs['atas']}").get_data(as_text=True)
    assert "income_above_threshold" in page  # the reason templates are offered
    rejected = elena.post(f"/backoffice/cases/{refs['atas']}/decide",
                          data={"csrf_token": csrf(page), "claim": refs["claim"], "decision": "rejected",
                                "reason_code": "income_above_threshold", "reason": ""})
    assert rejected.status_code == 303
    with app.app_context():
        decision = db.session.scalar(select(Decision))
        d_ref, number = decision.ref, decision.number
    letter_url = f"/applications/{refs['application']}/decisions/{d_ref}/letter.pdf"
    citizen = c("ion")
    status_page = citizen.get(f"/applications/{refs['application']}").get_data(as_text=True)
    assert letter_url in status_page and "Appeal until" in status_page
    pdf = citizen.get(letter_url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert c("other").get(letter_url).status_code == 404  # another citizen
    staff_letter = elena.get(f"/backoffice/cases/{refs['atas']}/decisions/{d_ref}/letter.pdf")
    assert staff_letter.status_code == 200 and c("sergiu").get(
        f"/backoffice/cases/{refs['atas']}/decisions/{d_ref}/letter.pdf").status_code == 404

    decision_page = citizen.get(f"/applications/{refs['application']}/decisions/{d_ref}").get_data(as_text=True)
    assert f"I contest decision no. {number}" in decision_page  # prefilled from the decision
    short = citizen.post(f"/applications/{refs['application']}/decisions/{d_ref}/appeal",
                         data={"csrf_token": csrf(decision_page), "grounds": "no"})
    assert short.status_code == 400
    sent = citizen.post(f"/applications/{refs['application']}/decisions/{d_ref}/appeal",
                        data={"csrf_token": csrf(decision_page),
                              "grounds": f"I contest decision no. {number}: my income fell in January."})
    assert sent.status_code == 303
    with app.app_context():
        appeal = db.session.scalar(select(Appeal))
        assert appeal.reviewer_id in (people["ana"].id, people["victor"].id) and appeal.reviewer_id != people["elena"].id
    # The author sees the appeal but cannot decide it; the reviewer can.
    page = elena.get(f"/backoffice/cases/{refs['atas']}").get_data(as_text=True)
    assert "another worker reviews it" in page and 'action="/backoffice/cases/%s/decide"' % refs["atas"] not in page


def test_approving_without_an_amount_is_refused_unless_the_rules_give_one(app, world):
    people, refs, c = world
    olga = c("olga")
    page = olga.get(f"/backoffice/cases/{refs['cnas']}").get_data(as_text=True)
    response = olga.post(f"/backoffice/cases/{refs['cnas']}/decide",
                         data={"csrf_token": csrf(page), "decision": "approved"}, follow_redirects=True)
    text = response.get_data(as_text=True)
    with app.app_context():
        decision = db.session.scalar(select(Decision))
    # The helper's household has no birth in the register: the rules give no amount, so the worker must.
    assert decision is None and "Enter the amount granted." in text
    ok = olga.post(f"/backoffice/cases/{refs['cnas']}/decide",
                   data={"csrf_token": csrf(page), "decision": "approved", "amount": "22500", "period": "one_off",
                         "start_date": "2026-03-20"})
    assert ok.status_code == 303
    with app.app_context():
        decision = db.session.scalar(select(Decision))
        assert (str(decision.amount), decision.period, decision.start_date) == ("22500.00", "one_off",
                                                                                 dt.date(2026, 3, 20))


def _routing_form(page, extra=None):
    """The routing page's form as it stands (the seed rules), plus ``extra`` in the empty last row."""
    rows = int(re.search(r'name="rows" value="(\d+)"', page).group(1))
    seed = load_rules()
    assert rows == len(seed) + 1  # the seed rules and an empty row to add one
    form = {"csrf_token": csrf(page), "rows": str(rows), "reason": ""}
    for i, rule in enumerate(seed):
        form[f"rule-{i}-benefits"] = sorted(rule.benefits)
        form[f"rule-{i}-raions"] = ", ".join(sorted(rule.raions))
        form[f"rule-{i}-target"] = f"agency:{rule.agency}" if rule.agency else f"kind:{rule.agency_kind}"
    form.update({f"rule-{len(seed)}-{k}": v for k, v in (extra or {}).items()})
    return form


def _latest_version(app):
    with app.app_context():
        return db.session.scalar(select(RoutingRuleVersion).order_by(RoutingRuleVersion.version.desc()))


def test_routing_admin_previews_then_saves_a_version(app, world):
    people, refs, c = world
    admin = c("anac")
    form = _routing_form(admin.get("/backoffice/admin/routing").get_data(as_text=True),
                         {"benefits": "social_aid", "raions": "ialoveni", "target": "agency:ATAS-CENTRU-EST",
                          "conditions": "channel=online"})
    preview = admin.post("/backoffice/admin/routing", data={**form, "action": "preview"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Dry run" in text and refs["application"] not in text
    assert "ES-2026-" in text  # Ion's application would have gone elsewhere
    assert "There is a problem" not in text and "As an agency administrator" not in text
    assert _latest_version(app).version == 1
    no_reason = admin.post("/backoffice/admin/routing", data={**form, "action": "save"})
    assert no_reason.status_code == 400
    saved = admin.post("/backoffice/admin/routing", data={**form, "action": "save", "reason": "Pilot Ialoveni"})
    assert saved.status_code == 303
    latest = _latest_version(app)
    assert (latest.version, latest.created_by_idnp, latest.reason) == (2, people["anac"].idnp, "Pilot Ialoveni")
    assert admin.get("/backoffice/admin/routing/versions/2").status_code == 200
    bad = admin.post("/backoffice/admin/routing", data={**form, "rule-4-raions": "atlantis", "action": "save",
                                                        "reason": "typo"})
    assert bad.status_code == 400 and "Rule 5: unknown raion or municipality atlantis." in bad.get_data(as_text=True)
    shoe = admin.post("/backoffice/admin/routing", data={**form, "rule-4-conditions": "shoe=1", "action": "preview"})
    assert shoe.status_code == 400 and "Rule 5: shoe is not a fact a rule can test" in shoe.get_data(as_text=True)


def test_agency_admin_changes_only_the_rules_of_their_agency(app, world):
    people, refs, c = world
    irina = c("irina")
    page = irina.get("/backoffice/admin/routing").get_data(as_text=True)
    assert ("As an agency administrator you change only the rules that send applications to Territorial Social "
            "Assistance Agency Centru (Ialoveni)") in page
    to_other = _routing_form(page, {"benefits": "social_aid", "raions": "ialoveni",
                                    "target": "agency:ATAS-CENTRU-EST", "conditions": "channel=online"})
    preview = irina.post("/backoffice/admin/routing", data={**to_other, "action": "preview"}).get_data(as_text=True)
    assert "Dry run" in preview and "There is a problem" in preview and "rule 5 sends applications to" in preview
    refused = irina.post("/backoffice/admin/routing", data={**to_other, "action": "save", "reason": "Pilot"})
    assert refused.status_code == 400
    assert "Only a system administrator can make this change" in refused.get_data(as_text=True)
    taking = _routing_form(page, {"benefits": "birth_allowance", "raions": "ialoveni", "target": "agency:ATAS-CENTRU"})
    refused = irina.post("/backoffice/admin/routing", data={**taking, "action": "save", "reason": "Ours"})
    assert refused.status_code == 400 and "instead of" in refused.get_data(as_text=True)
    assert _latest_version(app).version == 1
    own = _routing_form(page, {"benefits": "social_aid", "raions": "ialoveni, criuleni",
                               "target": "agency:ATAS-CENTRU", "conditions": "channel=cups"})
    preview = irina.post("/backoffice/admin/routing", data={**own, "action": "preview"}).get_data(as_text=True)
    assert "There is a problem" not in preview and "every application would go where it goes today" in preview
    saved = irina.post("/backoffice/admin/routing", data={**own, "action": "save", "reason": "CUPS desk"})
    assert saved.status_code == 303
    latest = _latest_version(app)
    assert (latest.version, latest.created_by_idnp) == (2, people["irina"].idnp)


def test_case_file_asks_why_before_it_opens(app, world):
    people, refs, c = world
    elena = c("elena")
    page = elena.get(f"/backoffice/cases/{refs['atas']}").get_data(as_text=True)
    opened = elena.post(f"/backoffice/households/from-case/{refs['atas']}", data={"csrf_token": csrf(page)})
    assert opened.status_code == 303
    with app.app_context():
        file_ref = db.session.scalar(select(CaseFile.ref))
    url = f"/backoffice/households/{file_ref}"
    ask = elena.get(url).get_data(as_text=True)
    assert "Why do you open this case file?" in ask and "Rusu" not in ask.split("<main", 1)[1].split("Case file:")[0]
    elena.post(f"{url}/purpose", data={"csrf_token": csrf(ask), "purpose": "home_visit", "note": "Visit on Friday"})
    shown = elena.get(url).get_data(as_text=True)
    assert "Needs assessment" in shown and "Record a home visit" in shown
    token = csrf(shown)
    assert elena.post(f"{url}/notes", data={"note-csrf_token": token, "note-text": "Called the family."}).status_code == 303
    assert elena.post(f"{url}/risk", data={"risk-csrf_token": token, "risk-level": "high",
                                           "risk-reason": "No income."}).status_code == 303
    assert elena.post(f"{url}/referrals", data={"referral-csrf_token": token, "referral-to_agency": "CNAS",
                                                "referral-reason": "Birth allowance."}).status_code == 303
    assert c("sergiu").get(url).status_code == 404
    olga_page = c("olga").get(url).get_data(as_text=True)  # referred: CNAS may open it, after saying why
    assert "Why do you open this case file?" in olga_page
    with app.app_context():
        logged = db.session.execute(select(AuditEvent.actor_idnp, AuditEvent.details).where(
            AuditEvent.action == "case_file_opened")).all()
        assert [(a, d["purpose"], d["note"]) for a, d in logged][:1] == [(people["elena"].idnp, "home_visit",
                                                                          "Visit on Friday")]
        assert db.session.scalar(select(CaseFile.risk_level)) == "high"


def test_the_case_shows_its_deadline_in_words_near_passed_or_paused(app, world):
    from portal.backoffice import calendar
    from portal.core import clock

    people, refs, c = world
    elena = c("elena")
    url = f"/backoffice/cases/{refs['atas']}"

    def shown(**values):
        with app.app_context():
            case = db.session.scalar(select(AgencyCase).where(AgencyCase.ref == refs["atas"]))
            for key, value in values.items():
                setattr(case, key, value)
            db.session.commit()
        page = elena.get(url).get_data(as_text=True)
        return page.split("Decide by", 1)[1].split("</p>", 1)[0]

    today = clock.today()
    rules = calendar.rules()
    far = shown(due_on=rules.calendar.add_working_days(today, rules.near_working_days + 5))
    assert f'datetime="{rules.calendar.add_working_days(today, rules.near_working_days + 5).isoformat()}"' in far
    assert "left" not in far and "overdue" not in far and "paused" not in far
    near = shown(due_on=rules.calendar.add_working_days(today, 2))
    assert "2 working days left" in near and 'class="tag tag-near"' in near
    passed = shown(due_on=today - dt.timedelta(days=3))
    assert "overdue" in passed and "left" not in passed
    paused = shown(status="waiting", paused_at=clock.now())  # as a request for information leaves it
    assert "paused: waiting for the applicant" in paused and "overdue" not in paused

"""The authorization matrix: every route of the app map, for every role, allowed or denied as declared here.

``MATRIX`` maps each endpoint to a :class:`Rule`: which roles must get through (``ok``: the page works for
them, the object exists), which must only get past the permission layer (``passes``: the object may be
missing here, so 404 is acceptable), and everyone else is denied (403, 404, or sent to log in).  Objects
belong to the citizen: another citizen, the wrong agency's worker, an analyst... reaching them by id is denied.

A route without an entry fails ``test_every_route_has_an_entry``.  To add one: put the endpoint in MATRIX with
its Rule and, if its URL has parameters, a ``url`` function that takes the World (the objects below) and
returns them.  If your route needs an object the World does not have, add it to ``build_world``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from typing import Callable

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Account, LoginSession, RoleAssignment
from portal.applications.models import Application, Claim, Document
from portal.core import clock, vault
from portal.core.db import db
from portal.core.idnp import make_idnp

ANON, CIT, OTHER, REP = "anonymous", "citizen", "other_citizen", "representative"
CUPS, WR, WW, SUP, AN, AADM, SYS, REG = ("cups_specialist", "worker_right_agency", "worker_wrong_agency",
                                         "supervisor", "analyst", "agency_admin", "sysadmin", "registry_officer")
ROLES = (ANON, CIT, OTHER, REP, CUPS, WR, WW, SUP, AN, AADM, SYS, REG)
ADMINS = frozenset({AADM, SYS})
LOGGED_IN = frozenset(ROLES) - {ANON}
EVERYONE = frozenset(ROLES)
OWNER = frozenset({CIT, REP})
CASE = frozenset({WR, SUP})
WORKERS = frozenset({WR, WW, SUP})

AGENCY, OTHER_AGENCY = "ATAS-CENTRU", "ATAS-NORD-EST"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


@dataclasses.dataclass
class World:
    accounts: dict[str, Account]
    draft: str  # the citizen's draft application (ref)
    app: str  # the citizen's submitted application (ref)
    claim: str
    case: str
    document: str
    decision: str
    offer: str
    rectification: str
    missing: str = "NOPE0000000000"


@dataclasses.dataclass(frozen=True)
class Rule:
    ok: frozenset = frozenset()
    passes: frozenset = frozenset()
    url: Callable[[World], dict] | None = None
    data: dict | None = None


def own(**url) -> Rule:
    return Rule(ok=OWNER, url=lambda w: {k: getattr(w, v) for k, v in url.items()})


def R(ok=(), passes=(), url=None, data=None) -> Rule:  # noqa: N802
    return Rule(ok=frozenset(ok), passes=frozenset(passes), url=url, data=data)


PUBLIC = R(ok=EVERYONE)
ANY = R(ok=LOGGED_IN)
CASE_URL = (lambda w: {"ref": w.case})
MISSING = (lambda w: {"ref": w.missing})

MATRIX: dict[str, Rule] = {
    # --- public
    "citizen.home": PUBLIC, "citizen.catalogue": PUBLIC,
    "citizen.benefit": R(ok=EVERYONE, url=lambda w: {"code": "social_aid"}),
    "site.set_language": PUBLIC, "site.health": PUBLIC, "ops.ready": PUBLIC, "ops.prometheus": PUBLIC,
    "auth.login": PUBLIC, "auth.acs": PUBLIC, "auth.logout": PUBLIC, "auth.sls": PUBLIC, "auth.metadata": PUBLIC,
    "tracking.lookup": PUBLIC,
    "preferences.display": PUBLIC, "preferences.session_alive": ANY, "preferences.session_ended": PUBLIC,
    # --- any logged-in person, about themselves
    "citizen.my_applications": ANY, "citizen.apply": ANY, "notifications.inbox": ANY,
    "notifications.preferences": ANY, "preferences.settings": ANY,
    "registries.my_data": ANY, "registries.my_reports": ANY, "registries.who_used_my_data": ANY,
    "registries.my_offers": ANY, "registries.report": R(ok=LOGGED_IN, url=lambda w: {"item": "address"}),
    "representation.choose": ANY, "representation.mandates": ANY, "representation.new_mandate": ANY,
    "representation.act": ANY, "representation.stop": ANY,
    "representation.revoke": R(passes=LOGGED_IN, url=MISSING),
    "representation.renounce": R(passes=LOGGED_IN, url=MISSING),
    "privacy.overview": ANY, "privacy.download": ANY, "privacy.data_page": ANY,
    # --- the citizen's own application, document, decision, offer: the citizen and their representative only
    "citizen.application": own(ref="app"), "citizen.receipt": own(ref="app"),
    "citizen.status_fragment": own(ref="app"), "citizen.stream": own(ref="app"),
    "citizen.answer": own(ref="app"), "tracking.receipt_pdf": own(ref="app"),
    "citizen.step": R(ok=OWNER, url=lambda w: {"ref": w.draft, "step": "benefits"}),
    "citizen.refresh": own(ref="draft"), "citizen.submit": own(ref="draft"),
    "citizen.document": R(ok=OWNER, url=lambda w: {"ref": w.app, "doc_ref": w.document}),
    "decisions.decision": R(ok=OWNER, url=lambda w: {"ref": w.app, "decision_ref": w.decision}),
    "decisions.letter": R(ok=OWNER, url=lambda w: {"ref": w.app, "decision_ref": w.decision}),
    "decisions.appeal": R(ok=OWNER, url=lambda w: {"ref": w.app, "decision_ref": w.decision}),
    "eligibility.add_offers": own(ref="app"),
    "eligibility.request_review": R(ok=OWNER, url=lambda w: {"ref": w.app, "claim_ref": w.claim}),
    "registries.offer": R(ok={CIT}, url=lambda w: {"ref": w.offer}),
    "registries.accept_offer": R(ok={CIT}, url=lambda w: {"ref": w.offer}),
    "registries.dismiss_offer": R(ok={CIT}, url=lambda w: {"ref": w.offer}),
    # --- the back office: the case belongs to AGENCY; the other agency's worker is refused it
    "backoffice.queue": R(ok={WR, WW, SUP, AN, AADM, SYS}),
    "backoffice.take_next": R(ok=WORKERS),
    "backoffice.case": R(ok=CASE, url=CASE_URL),
    "backoffice.take": R(ok=CASE, url=CASE_URL),
    "backoffice.transfer": R(ok=CASE, url=CASE_URL),
    "backoffice.request_info": R(ok=CASE, url=CASE_URL),
    "backoffice.decide": R(ok=CASE, url=CASE_URL),
    "backoffice.assign": R(ok={SUP}, url=CASE_URL),
    "backoffice.document": R(ok=CASE, url=lambda w: {"ref": w.case, "doc_ref": w.document}),
    "backoffice.letter": R(ok=CASE, url=lambda w: {"ref": w.case, "decision_ref": w.decision}),
    "backoffice.figures": R(ok={AN, SUP, AADM, SYS}),
    # which rules each administrator may change: test_routing_rules_each_administrator_may_change below
    "backoffice.routing_rules": R(ok=ADMINS), "backoffice.routing_save": R(ok=ADMINS),
    "backoffice.routing_version": R(passes=ADMINS, url=lambda w: {"number": 1}),
    "registries.notices_seen": R(ok=CASE, url=lambda w: {"ref": w.app}),
    "eligibility.clear_flag": R(passes=WORKERS, url=lambda w: {"claim_ref": w.claim, "flag_id": 999999}),
    "casefiles.index": R(ok=WORKERS),
    "casefiles.open_file": R(ok=CASE, url=CASE_URL),
    **{f"casefiles.{name}": R(passes=WORKERS, url=MISSING)
       for name in ("show", "assessment", "close", "note", "plan", "purpose", "referral", "risk", "visit")},
    "casefiles.plan_status": R(passes=WORKERS, url=lambda w: {"ref": w.missing, "item_id": 999999}),
    "casefiles.answer_referral": R(passes=WORKERS, url=lambda w: {"ref": w.missing, "referral_ref": w.missing}),
    "registries.rectification_queue": R(ok={REG}),
    "registries.answer_rectification": R(ok={REG}, url=lambda w: {"ref": w.rectification}),
    "notifications_admin.dead_letters": R(ok={SYS}), "notifications_admin.retry": R(ok={SYS}),
    "notifications_admin.attempts": R(passes={SYS}, url=lambda w: {"notification_id": 999999}),
    # --- the integration API: agency systems with a bearer token, never a person's browser session (401)
    "api.docs": PUBLIC, "api.openapi": PUBLIC, "api.token": PUBLIC,
    **{f"api.{name}": R(url=MISSING) for name in ("change_status", "decide", "get_case", "request_information")},
    "api.document": R(url=lambda w: {"ref": w.missing, "doc_ref": w.missing}),
    "api.list_cases": R(), "api.list_webhooks": R(), "api.subscribe": R(), "api.unsubscribe": R(url=MISSING),
    "api_admin.overview": R(ok={AADM}),
    "api_admin.retry": R(passes={AADM}, url=lambda w: {"delivery_id": 999999}),
    "api_admin.create_client": R(ok={AADM}),
    **{f"api_admin.{name}": R(ok={AADM}, url=lambda w: {"client_id": w.api_client})
       for name in ("client_page", "add_secret", "revoke_client", "subscribe")},
    "api_admin.revoke_secret": R(ok={AADM}, url=lambda w: {"client_id": w.api_client, "secret_id": w.api_secret}),
    "api_admin.unsubscribe": R(ok={AADM}, url=lambda w: {"ref": w.webhook}),
    # --- the ministry's figures (counts, never a person)
    "figures.dashboard": R(ok={AN}), "figures.export_csv": R(ok={AN}), "figures.export_json": R(ok={AN}),
    "citizen.applications_fragment": ANY, "citizen.applications_stream": ANY,
    "tracking.lookup_form": PUBLIC,
    # --- CUPS centres
    "assisted.desk": R(ok={CUPS}), "assisted.applications": R(ok={CUPS}),
    "assisted.start_document": R(ok={CUPS}), "assisted.start_mpass": R(ok={CUPS}),
    **{f"assisted.{name}": R(passes={CUPS}, url=MISSING) for name in ("visit", "confirm_consent", "consent_pdf", "end")},
}

BUILTIN = {"static"}


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in BUILTIN:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_an_entry(app):
    missing = sorted({rule.endpoint for rule, _ in routes(app) if rule.endpoint not in MATRIX})
    assert missing == [], ("routes with no entry in the authorization matrix (tests/test_authorization_matrix.py, "
                           f"MATRIX): {missing}")


# ------------------------------------------------------------------ the world every route is tried against


def _account(s, role: str, n: int) -> Account:
    account = Account(idnp=make_idnp(f"2009{n:08d}"), first_name=role.replace("_", " ").title(), last_name="Test",
                      email=f"{role}@example.md", language="en")
    s.add(account)
    return account


def build_world(app) -> World:
    s = db.session
    accounts = {role: _account(s, role, n) for n, role in enumerate(ROLES[1:], start=1)}
    s.flush()
    grants = {CUPS: [("cups_specialist", "CUPS-LOZOVA")], WR: [("case_worker", AGENCY)],
              WW: [("case_worker", OTHER_AGENCY)], SUP: [("supervisor", AGENCY)], AN: [("analyst", None)],
              AADM: [("agency_admin", AGENCY)], SYS: [("sysadmin", None)], REG: [("registry_officer", "RSP")]}
    for role, pairs in grants.items():
        for name, agency in pairs:
            s.add(RoleAssignment(idnp=accounts[role].idnp, role=name, agency_code=agency, granted_by="test"))
    citizen = accounts[CIT]
    draft = Application(applicant=citizen, created_by=citizen, benefits=["social_aid"], current_step="benefits",
                        answers={}, raion_code="IALOVENI", language="en")
    sent = Application(applicant=citizen, created_by=citizen, benefits=["social_aid"], current_step="check",
                       answers={}, raion_code="IALOVENI", language="en", status="submitted",
                       submitted_at=clock.now())
    s.add_all([draft, sent])
    s.flush()
    sent.number = f"ES-{clock.now().year}-{sent.id:07d}"
    from portal.backoffice.models import AgencyCase

    case = AgencyCase(application=sent, agency_code=AGENCY, due_on=clock.today() + dt.timedelta(days=30))
    s.add(case)
    s.flush()
    claim = Claim(application=sent, benefit_code="social_aid", agency_code=AGENCY, status="approved",
                  case_id=case.id)
    s.add(claim)
    s.flush()
    store = vault.current()
    key = store.new_name(".pdf")
    store.put(key, PDF)
    document = Document(application=sent, kind="foreign_birth_certificate", filename="certificat.pdf",
                        content_type="application/pdf", size=len(PDF), storage_key=key, uploaded_by_id=citizen.id)
    s.add(document)
    from portal.decisions.models import Decision

    decision = Decision(claim_id=claim.id, case_id=case.id, agency_code=AGENCY, outcome="approved",
                        decided_by_id=accounts[WR].id, appeal_until=clock.today() + dt.timedelta(days=30),
                        number=f"D-{secrets.token_hex(4)}", letter_pdf=PDF, legal_basis="Law 133/2008",
                        amount=1000, period="monthly", start_date=clock.today())
    s.add(decision)
    from portal.registries.models import BenefitOffer, RectificationRequest

    offer = BenefitOffer(subject_idnp=citizen.idnp, benefit_code="social_aid", key="matrix", reason="eligibility")
    rectification = RectificationRequest(subject_idnp=citizen.idnp, account_id=citizen.id, registry_code="RSP",
                                         item="address", note="The street is wrong.")
    s.add_all([offer, rectification])
    # The representative holds a mandate from the citizen for social aid (portal.representation).
    from portal.representation import services as representation

    mandate = representation.grant_mandate(
        s, citizen, grantee_idnp=accounts[REP].idnp, services=["social_aid"],
        valid_until=clock.today() + dt.timedelta(days=90), language="en",
        grantee_record={"first_name": "Representative", "last_name": "Test"})
    # The agency's integration client with a webhook subscription (portal.api), for its administrator's pages.
    from portal.api import clients as api_clients

    api_client, _secret = api_clients.create(s, None, agency_code=AGENCY, client_id="matrix-system", name="Matrix")
    webhook = api_clients.subscribe(s, None, api_client, url="https://matrix.example.md/hook",
                                    events=["case.created"], production=False)
    sessions = {}
    for role, account in accounts.items():  # one server-side login session per role, as a real login makes
        sessions[role] = secrets.token_urlsafe(32)
        s.add(LoginSession(id=sessions[role], account_id=account.id, name_id=account.idnp))
    s.commit()
    world = World(accounts=accounts, draft=draft.ref, app=sent.ref, claim=claim.ref, case=case.ref,
                  document=document.ref, decision=decision.ref, offer=offer.ref, rectification=rectification.ref)
    world.mandate = mandate.ref
    world.api_client, world.api_secret, world.webhook = api_client.client_id, api_client.secrets[0].id, webhook.ref
    world.sessions = sessions
    return world


def client_for(app, world: World, role: str):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    if role == ANON:
        return client
    # Requests run outside any app context of the test: Flask-Login caches the user in the app context's g.
    with client.session_transaction() as s:
        s["_user_id"] = world.sessions[role]
        s["_fresh"] = True
        s["lang"] = "en"
        if role == REP:  # the representative has chosen to act for the citizen under the mandate
            s["acting_for"] = {"basis": "mandate", "subject": world.accounts[CIT].idnp,
                               "mandate": world.mandate, "since": clock.now().isoformat()}
    return client


def outcome(response) -> str:
    if response.status_code >= 500:
        return "error"
    if response.status_code in (301, 302, 303) and "/auth/login" in response.headers.get("Location", ""):
        return "login"
    if response.status_code == 401:
        return "unauthorized"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 404:
        return "not found"
    return "allowed"


@pytest.fixture(scope="module")
def route_methods(app):
    return {(rule.endpoint, method): rule for rule, method in routes(app)}


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_every_role_gets_what_the_matrix_says(app, monkeypatch, route_methods, endpoint):
    """Each method of the endpoint, each role: denied roles first (they change nothing), then the allowed."""
    entries = [(method, rule) for (ep, method), rule in route_methods.items() if ep == endpoint]
    if not entries:
        pytest.skip(f"{endpoint} is not in this build")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # CSRF has its own test; here: who gets in
    expected = MATRIX[endpoint]
    problems = []
    with app.app_context():
        world = build_world(app)
    for method, url_rule in entries:
        values = expected.url(world) if expected.url else {}
        path = url_rule.build(values, append_unknown=False)[1]
        order = sorted(ROLES, key=lambda r: (r in expected.ok or r in expected.passes, ROLES.index(r)))
        for role in order:
            client = client_for(app, world, role)
            response = client.open(path, method=method, data=expected.data or {})
            got = outcome(response)
            response.close()
            if role in expected.ok:
                good = got == "allowed"
            elif role in expected.passes:
                good = got in ("allowed", "not found")
            elif role == ANON:
                good = got in ("login", "unauthorized")
            else:
                good = got in ("forbidden", "not found", "unauthorized")
            if not good:
                problems.append(f"{method} {path} as {role}: {got} ({response.status_code})")
    assert problems == [], "\n".join(problems)


# ------------------------------------------------------------------ inside a route: which routing rules


def _rules_form(extra: dict) -> dict:
    from portal.routing.rules import load_rules

    seed = load_rules()
    form = {"rows": str(len(seed) + 1), "action": "save", "reason": "Matrix"}
    for i, rule in enumerate(seed):
        form[f"rule-{i}-benefits"] = sorted(rule.benefits)
        form[f"rule-{i}-raions"] = ", ".join(sorted(rule.raions))
        form[f"rule-{i}-target"] = f"agency:{rule.agency}" if rule.agency else f"kind:{rule.agency_kind}"
    form.update({f"rule-{len(seed)}-{key}": value for key, value in extra.items()})
    return form


# A rule for applications made at a CUPS centre in a raion of the agency, sending them to that agency or elsewhere.
OWN_RULE = {"benefits": "social_aid", "raions": "ialoveni", "target": f"agency:{AGENCY}", "conditions": "channel=cups"}
OTHER_RULE = {**OWN_RULE, "raions": "soroca", "target": f"agency:{OTHER_AGENCY}"}
TAKING_RULE = {**OWN_RULE, "raions": "soroca"}  # the agency's own, for another agency's raion


@pytest.mark.parametrize("role", ROLES)
def test_routing_rules_each_administrator_may_change(app, monkeypatch, role):
    """A system administrator changes every rule; an agency administrator only rules that keep applications
    within their own agency; everyone else none."""
    from portal.routing.models import RoutingRuleVersion

    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    with app.app_context():
        world = build_world(app)
        from portal.routing import services as routing

        routing.seed(db.session)  # version 1, as the first page would
        db.session.commit()
    client = client_for(app, world, role)
    may = {SYS: {"own", "other", "taking"}, AADM: {"own"}}.get(role, set())
    got = set()
    for name, rule in (("other", OTHER_RULE), ("taking", TAKING_RULE), ("own", OWN_RULE)):
        with app.app_context():
            before = db.session.scalar(select(func.count()).select_from(RoutingRuleVersion))
        response = client.post("/backoffice/admin/routing", data=_rules_form(rule))
        with app.app_context():
            after = db.session.scalar(select(func.count()).select_from(RoutingRuleVersion))
        if after > before:
            got.add(name)
            assert response.status_code == 303
        elif role in ADMINS:
            assert response.status_code == 400 and "Only a system administrator" in response.get_data(as_text=True)
        else:
            assert outcome(response) in ("login", "forbidden", "not found", "unauthorized")
        if name in got and role == SYS and name != "own":  # back to the seed rules for the next one
            client.post("/backoffice/admin/routing", data={**_rules_form({}), "reason": "Back"})
    assert got == may

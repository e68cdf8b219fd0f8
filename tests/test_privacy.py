"""Law 133/2011: a citizen downloads everything held about them; records are purged after their retention
period; consents are recorded, revocable and audited."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Account, LoginSession
from portal.applications.models import Application, Claim, Document, Evidence
from portal.audit import chain
from portal.audit import services as audit
from portal.audit.models import AuditEvent
from portal.core import clock, vault
from portal.core.db import db, session_scope
from portal.core.errors import DomainError
from portal.models import Base
from portal.privacy import consent, export, retention
from portal.privacy.models import Consent

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def _application(s, owner, *, status="draft", claims=(), updated=None, doc=True):
    application = Application(applicant_id=owner.id, created_by_id=owner.id, benefits=["social_aid"], answers={},
                              status=status)
    s.add(application)
    s.flush()
    s.add(Evidence(application=application, item="address", source="RSP", status="fetched",
                   payload={"street": "Stefan cel Mare 1"}))
    codes = iter(("social_aid", "birth_allowance", "energy_compensation"))
    for status_, decided in claims:
        s.add(Claim(application=application, benefit_code=next(codes), agency_code="ATAS-CENTRU", status=status_,
                    decided_at=decided))
    if doc:
        store = vault.current()
        key = store.new_name(".pdf")
        store.put(key, PDF)
        s.add(Document(application=application, kind="foreign_birth_certificate", filename="c.pdf",
                       content_type="application/pdf", size=len(PDF), storage_key=key, uploaded_by_id=owner.id))
    s.flush()
    if updated is not None:
        application.updated_at = updated
    return application


def test_every_table_is_classified_for_the_download(app):
    """A new table must say whether it holds data about a person (portal/privacy/export.py, COVERAGE)."""
    tables = {t.name for t in Base.metadata.sorted_tables}
    unclassified = sorted(t for t in tables if not export.covered(t) and _looks_personal(t))
    assert unclassified == [], f"classify these tables in portal.privacy.export.COVERAGE: {unclassified}"


def _looks_personal(name: str) -> bool:
    table = Base.metadata.tables[name]
    return any("idnp" in c.name or any(fk.column.table.name in ("account", "application", "claim")
                                       for fk in c.foreign_keys) for c in table.columns)


def test_the_download_holds_the_persons_data_and_nobody_elses(app, client, make_account, login):
    me = make_account(first_name="Maria", last_name="Lungu")
    other = make_account(first_name="Ion", last_name="Rusu")
    with app.app_context():
        mine = _application(db.session, me)
        _application(db.session, other)
        audit.record(db.session, "case_viewed", actor_idnp=other.idnp, subject_idnp=me.idnp, object_id="C1")
        db.session.commit()
        my_ref = mine.ref
    login(client, me)
    response = client.get("/privacy/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(response.data)
    tables = data["tables"]
    assert data["idnp"] == me.idnp
    assert [a["first_name"] for a in tables["account"]] == ["Maria"]
    assert [a["ref"] for a in tables["application"]] == [my_ref]
    assert tables["evidence"][0]["payload"] == {"street": "Stefan cel Mare 1"}
    assert "storage_key" not in tables["document"][0]
    assert all("id" not in row for row in tables["login_session"])  # session tokens are secrets
    viewed = [e for e in tables["audit_event"] if e["action"] == "case_viewed"]
    assert viewed and viewed[0]["actor_idnp"] != other.idnp and viewed[0]["actor_idnp"].endswith(other.idnp[-4:])
    assert other.idnp not in json.dumps(tables["application"]) and "Rusu" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "personal_data_exported")) == 1


def test_the_readable_page_and_the_overview(app, client, make_account, login):
    me = make_account(first_name="Maria", last_name="Lungu")
    with app.app_context():
        _application(db.session, me)
        consent.give(db.session, subject_idnp=me.idnp, kind=consent.OPTIONAL_CONTACT, purpose="sms_reminders",
                     recorded_by=db.session.get(Account, me.id), text_version="v1", method="online")
        db.session.commit()
    login(client, me)
    with client.session_transaction() as s:
        s["lang"] = "en"
    page = client.get("/privacy/data").get_data(as_text=True)
    assert "All your data" in page and "Maria" in page and "Stefan cel Mare 1" in page
    overview = client.get("/privacy/").get_data(as_text=True)
    assert "Rejected applications" in overview and "1095" in overview and "sms_reminders" in overview


def test_consents_are_recorded_revoked_and_audited(app, make_account):
    person, specialist = make_account(), make_account()
    with app.app_context():
        s = db.session
        spec = s.get(Account, specialist.id)
        given = consent.give(s, subject_idnp=person.idnp, kind=consent.ASSISTED_SESSION,
                             purpose="assisted_application", recorded_by=spec, granted_to_idnp=spec.idnp,
                             granted_to_org="CUPS-LOZOVA", text_version="cups-2026-01", method="signed_form",
                             evidence="identity card A1234567", scope={"visit": "V1"},
                             expires_at=clock.now() + dt.timedelta(hours=2))
        s.commit()
        assert consent.active(s, subject_idnp=person.idnp, kind=consent.ASSISTED_SESSION,
                              granted_to_idnp=spec.idnp).ref == given.ref
        assert consent.active(s, subject_idnp=person.idnp, kind=consent.ASSISTED_SESSION,
                              at=clock.now() + dt.timedelta(hours=3)) is None
        consent.revoke(s, given, actor=s.get(Account, person.id))
        s.commit()
        assert consent.active(s, subject_idnp=person.idnp, kind=consent.ASSISTED_SESSION) is None
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions == ["consent_given", "consent_revoked"]
        with pytest.raises(ValueError):
            consent.give(s, subject_idnp=person.idnp, kind="marketing", purpose="x", recorded_by=spec,
                         text_version="v1", method="online")


def test_retention_periods_are_configuration(settings):
    periods = retention.load_periods(settings)
    assert periods["drafts"] == dt.timedelta(days=90)
    assert periods["audit_events"] == dt.timedelta(days=1825)
    assert set(periods.days) == set(retention.KINDS)


def test_the_purge_removes_what_is_past_its_period_and_nothing_else(app, make_account):
    owner = make_account()
    now = clock.now()
    old = now - dt.timedelta(days=100)
    with app.app_context():
        s = db.session
        stale = _application(s, owner, updated=old)
        fresh = _application(s, owner)
        rejected = _application(s, owner, status="submitted", claims=[("rejected", now - dt.timedelta(days=1200))])
        mixed = _application(s, owner, status="submitted",
                             claims=[("rejected", now - dt.timedelta(days=1200)), ("in_review", None)])
        s.add(LoginSession(id="old-session", account_id=owner.id, name_id=owner.idnp,
                           created_at=now - dt.timedelta(days=400), last_seen_at=now - dt.timedelta(days=400),
                           ended_at=now - dt.timedelta(days=400)))
        s.add(LoginSession(id="new-session", account_id=owner.id, name_id=owner.idnp))
        s.commit()
        stale_key = stale.documents[0].storage_key
        ids = {"stale": stale.id, "fresh": fresh.id, "rejected": rejected.id, "mixed": mixed.id}
        for i in range(3):
            audit.record(s, "login", actor_idnp=owner.idnp, n=i)
        s.commit()
        s.execute(AuditEvent.__table__.update().where(AuditEvent.seq <= 2)
                  .values(occurred_at=now - dt.timedelta(days=2000)))
        s.commit()

    with app.app_context():
        # Backdating above changed hashed content; rewrite those links as if written then.
        with session_scope() as s:
            prev = chain.GENESIS
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
                e.prev_hash = prev
                e.hash = chain.hash_of(e)
                prev = e.hash
            head = s.get(chain.AuditChainHead, 1)
            head.hash = prev
        done = retention.purge(db.new_session, app.config["ESOCIAL"], now=now)
        s = db.session
        left = set(s.scalars(select(Application.id)))
        assert ids["stale"] not in left and ids["rejected"] not in left
        assert {ids["fresh"], ids["mixed"]} <= left
        assert s.get(LoginSession, "old-session") is None and s.get(LoginSession, "new-session") is not None
        assert not (vault.current().directory / stale_key).exists()
        assert done["drafts"]["application"] == 1 and done["rejected_applications"]["application"] == 1
        assert done["audit_events"] == {"audit_event": 2}
        # The chain still verifies from its new start, and the purge itself is in it.
        with db.new_session() as fresh_session:
            report = chain.verify(fresh_session)
        assert report.ok, report.problems
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "retention_purge")) >= 3
        # Running it again deletes nothing more.
        assert "drafts" not in retention.purge(db.new_session, app.config["ESOCIAL"], now=now)


def test_the_purge_is_a_registered_sweep(app):
    from portal import jobs

    assert "privacy.retention" in jobs.load_tasks()
    jobs.run_once(app, "privacy.retention")

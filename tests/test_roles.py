"""Staff roles change only through ``portal.accounts.roles`` (and its ``flask roles`` commands), and every
change is in the audit chain: who was given or lost which role, for which scope, decided by whom."""
from __future__ import annotations

from sqlalchemy import select

from api_helpers import make_client
from backoffice_helpers import person
from portal.accounts.models import RoleAssignment
from portal.audit import chain
from portal.audit.models import AuditEvent
from portal.core.db import db

AGENCY = "ATAS-CENTRU"


def _events(app, *actions):
    with app.app_context():
        return [(e.action, e.actor_idnp, e.subject_idnp, e.details.get("role"), e.details.get("scope"))
                for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(actions))
                                            .order_by(AuditEvent.seq))]


def test_a_role_granted_and_revoked_from_the_command_line_works_at_once_and_is_audited(app, login):
    with app.app_context():
        elena = person(db.session, "Elena", "Ciobanu")
        boss = person(db.session, "Vasile", "Director")
        db.session.commit()
    browser = app.test_client()
    login(browser, elena)
    assert browser.get("/backoffice/households/").status_code == 403
    runner = app.test_cli_runner()
    granted = runner.invoke(args=["roles", "grant", elena.idnp, "case_worker", AGENCY, "--by", boss.idnp])
    assert granted.exit_code == 0, granted.output
    assert browser.get("/backoffice/households/").status_code == 200  # read from the table on the very next request
    assert f"{elena.idnp}\tcase_worker\t{AGENCY}" in runner.invoke(args=["roles", "list"]).output
    revoked = runner.invoke(args=["roles", "revoke", elena.idnp, "case_worker", AGENCY, "--by", boss.idnp])
    assert revoked.exit_code == 0, revoked.output
    assert browser.get("/backoffice/households/").status_code == 403
    # Given again: the same row comes back to life, and the trail says so once more.
    assert runner.invoke(args=["roles", "grant", elena.idnp, "case_worker", AGENCY]).exit_code == 0
    assert runner.invoke(args=["roles", "grant", elena.idnp, "case_worker", AGENCY]).exit_code == 0  # no change
    assert _events(app, "role_granted", "role_revoked") == [
        ("role_granted", boss.idnp, elena.idnp, "case_worker", AGENCY),
        ("role_revoked", boss.idnp, elena.idnp, "case_worker", AGENCY),
        ("role_granted", None, elena.idnp, "case_worker", AGENCY)]
    with app.app_context():
        assert len(db.session.scalars(select(RoleAssignment).where(RoleAssignment.idnp == elena.idnp)).all()) == 1
        assert chain.verify(db.session).ok


def test_a_role_needs_its_kind_of_scope_and_a_person(app):
    with app.app_context():
        ion = person(db.session, "Ion", "Rusu")
        db.session.commit()
    runner = app.test_cli_runner()
    for args in (["roles", "grant", ion.idnp, "case_worker"],  # an agency role without its agency
                 ["roles", "grant", ion.idnp, "case_worker", "NO-SUCH-AGENCY"],
                 ["roles", "grant", ion.idnp, "analyst", AGENCY],  # analysts hold theirs portal-wide
                 ["roles", "grant", ion.idnp, "cups_specialist", AGENCY],  # a CUPS centre, not an agency
                 ["roles", "grant", ion.idnp, "pope"],
                 ["roles", "grant", "2000000000001", "analyst"],  # a wrong check digit
                 ["roles", "revoke", ion.idnp, "analyst"]):  # not held
        result = runner.invoke(args=args)
        assert result.exit_code != 0, (args, result.output)
    assert runner.invoke(args=["roles", "grant", ion.idnp, "cups_specialist", "CUPS-LOZOVA"]).exit_code == 0
    assert runner.invoke(args=["roles", "grant", ion.idnp, "registry_officer", "rsp"]).exit_code == 0
    assert runner.invoke(args=["roles", "grant", ion.idnp, "analyst"]).exit_code == 0
    assert [e[3:] for e in _events(app, "role_granted")] == [
        ("cups_specialist", "CUPS-LOZOVA"), ("registry_officer", "rsp"), ("analyst", None)]


def test_an_api_client_service_role_is_granted_and_revoked_in_the_trail(app):
    cid, _secret = make_client(app, AGENCY, "sys-roles")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["api-clients", "revoke", cid]).exit_code == 0
    events = _events(app, "role_granted", "role_revoked")
    assert [(action, role, scope) for action, _, _, role, scope in events] == [
        ("role_granted", "case_worker", AGENCY), ("role_revoked", "case_worker", AGENCY)]

"""The audit trail is one hash chain: any changed, deleted or inserted record is found by `audit verify`."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, update

from portal.audit import chain
from portal.audit import services as audit
from portal.audit.models import AuditChainHead, AuditEvent
from portal.core.db import db, session_scope

ROOT = Path(__file__).resolve().parent.parent


def write_events(count: int, per_commit: int = 1) -> None:
    for start in range(0, count, per_commit):
        with session_scope() as s:
            for i in range(start, min(start + per_commit, count)):
                audit.record(s, "case_viewed", actor_idnp="2005001000062", subject_idnp="2005001000028",
                             object_type="case", object_id=f"C{i}", purpose="assigned_case", n=i)


def verify():
    with db.new_session() as s:
        return chain.verify(s)


def test_events_are_chained_at_commit_and_verify(app):
    with app.app_context():
        write_events(7, per_commit=3)
        report = verify()
        assert report.ok, report.problems
        assert report.checked == 7 and report.head_seq == 7
        with db.new_session() as s:
            events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
            assert [e.seq for e in events] == list(range(1, 8))
            assert events[0].prev_hash == chain.GENESIS
            assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
            assert s.get(AuditChainHead, 1).hash == events[-1].hash


def test_a_rolled_back_transaction_leaves_no_link(app):
    with app.app_context():
        write_events(2)
        s = db.new_session()
        audit.record(s, "login", actor_idnp="2005001000028")
        s.flush()
        s.rollback()
        s.close()
        write_events(1)
        report = verify()
        assert report.ok and report.checked == 3


@pytest.mark.parametrize("change", [
    {"details": {"purpose": "curiosity", "n": 3}},
    {"actor_idnp": "2005001000011"},
    {"action": "login"},
])
def test_a_changed_record_is_detected(app, change):
    with app.app_context():
        write_events(5)
        with session_scope() as s:
            s.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(**change))
        report = verify()
        assert not report.ok
        assert any("record 3" in p and "changed" in p for p in report.problems), report.problems


def test_a_recomputed_record_still_breaks_the_next_link(app):
    """Rewriting a record *and* its hash is caught by the record after it."""
    with app.app_context():
        write_events(5)
        with session_scope() as s:
            e = s.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
            e.details = {"purpose": "curiosity", "n": 1}
            e.hash = chain.hash_of(e)
        report = verify()
        assert any("record 3" in p and "does not follow" in p for p in report.problems), report.problems


def test_a_deleted_record_is_detected(app):
    with app.app_context():
        write_events(5)
        with session_scope() as s:
            s.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
        report = verify()
        assert any("3–3 are missing" in p for p in report.problems), report.problems


def test_deleting_the_newest_records_is_detected(app):
    with app.app_context():
        write_events(5)
        with session_scope() as s:
            s.execute(delete(AuditEvent).where(AuditEvent.seq >= 4))
        report = verify()
        assert any("4–5 at the end" in p for p in report.problems), report.problems


def test_an_inserted_record_is_detected(app):
    with app.app_context():
        write_events(3)
        with session_scope() as s:  # written straight into the table, past the chain
            s.execute(insert(AuditEvent).values(action="login", actor_idnp="2005001000011", details={},
                                                occurred_at=s.scalar(select(func.min(AuditEvent.occurred_at)))))
        report = verify()
        assert any("outside the chain" in p for p in report.problems), report.problems


def test_an_inserted_record_with_a_forged_link_is_detected(app):
    """A record appended with a correct-looking link, but without moving the head, does not fit."""
    with app.app_context():
        write_events(3)
        with session_scope() as s:
            last = s.scalar(select(AuditEvent).where(AuditEvent.seq == 3))
            forged = AuditEvent(action="login", actor_idnp="2005001000011", details={}, occurred_at=last.occurred_at,
                                seq=4, prev_hash=last.hash)
            forged.hash = chain.hash_of(forged)
            s.execute(insert(AuditEvent).values(action=forged.action, actor_idnp=forged.actor_idnp, details={},
                                                occurred_at=forged.occurred_at, seq=4, prev_hash=forged.prev_hash,
                                                hash=forged.hash))
        report = verify()
        assert any("chain head says record 3" in p for p in report.problems), report.problems


def test_an_anchor_written_down_earlier_is_checked(app):
    with app.app_context():
        write_events(3)
        with db.new_session() as s:
            anchor = chain.head(s)
        write_events(2)
        with db.new_session() as s:
            assert chain.verify(s, anchors=[anchor]).ok
            assert not chain.verify(s, anchors=[(anchor[0], "f" * 64)]).ok
            assert not chain.verify(s, anchors=[(99, anchor[1])]).ok


def test_concurrent_writers_do_not_fork_the_chain(app):
    """Eight threads commit at once, each on its own connection: one chain, no gap, no duplicate."""
    with app.app_context():
        errors = []
        barrier = threading.Barrier(8)

        def writer(n):
            try:
                barrier.wait()
                for i in range(6):
                    with session_scope() as s:
                        audit.record(s, "login", actor_idnp="2005001000028", writer=n, i=i)
                        audit.record(s, "logout", actor_idnp="2005001000028", writer=n, i=i)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        report = verify()
        assert report.ok, report.problems
        assert report.checked == 8 * 6 * 2


def test_the_flask_command_reports_intact_and_broken(app):
    runner = app.test_cli_runner()
    with app.app_context():
        write_events(4)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 4 records" in result.output
    head = runner.invoke(args=["audit", "head"]).output.strip()
    assert head.startswith("4:") and len(head) == 66
    assert runner.invoke(args=["audit", "verify", "--anchor", head]).exit_code == 0
    with app.app_context(), session_scope() as s:
        s.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(object_id="C9"))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "record 2" in result.output


def test_python_dash_m_verify(app, settings):
    with app.app_context():
        write_events(2)
    env = {**os.environ, "ESOCIAL_ENV": "test", "ESOCIAL_DATABASE_URL": settings.database_url}
    ok = subprocess.run([sys.executable, "-m", "portal.audit", "verify"], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "intact: 2 records" in ok.stdout
    with app.app_context(), session_scope() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.seq == 1))
    broken = subprocess.run([sys.executable, "-m", "portal.audit", "verify"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1
    assert "missing" in broken.stderr

import threading

from portal import jobs


def test_scheduler_runs_due_sweeps_and_survives_a_failing_one(app, monkeypatch):
    ran = []
    stop = threading.Event()
    monkeypatch.setattr(jobs, "REGISTRY", {})
    monkeypatch.setattr(jobs, "TASK_MODULES", [])  # only this test's sweeps

    @jobs.periodic("ok", every=0)
    def ok(app):
        ran.append("ok")
        if len(ran) >= 3:
            stop.set()

    @jobs.periodic("broken", every=0)
    def broken(app):
        raise RuntimeError("a sweep failing must not stop the others")

    jobs.run_scheduler(app, stop, tick=0)
    assert ran == ["ok", "ok", "ok"]


def test_run_once(app, monkeypatch):
    monkeypatch.setattr(jobs, "REGISTRY", {})
    monkeypatch.setattr(jobs, "TASK_MODULES", [])
    jobs.periodic("answer", every=60)(lambda app: 42)
    assert jobs.run_once(app, "answer") == 42


def test_a_swapped_registry_loses_no_sweep(monkeypatch):
    """A test (or a reload) may swap the registry while modules import; the real sweeps are still found."""
    with monkeypatch.context() as m:
        m.setattr(jobs, "REGISTRY", {})
        assert {"backoffice.escalate_overdue", "notifications.reminders"} <= set(jobs.load_tasks())
    assert {"backoffice.escalate_overdue", "notifications.reminders"} <= set(jobs.load_tasks())

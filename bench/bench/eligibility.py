"""Eligibility: how fast the rules judge households, and what the cross-checks add to a submission.

    .venv/bin/python -m bench.eligibility                  # the synthetic population, 300 submissions
    .venv/bin/python -m bench.eligibility --submissions 1000 --prior 50000

1. **Rules.** Every household of the registry simulator's synthetic population (10,000+ persons) is
   turned into the normalised payloads the prefill keeps (the simulator's answers read by the portal's
   own schemas, without HTTP), then into inputs by the one adapter; every benefit is judged and the
   offers are computed.  It prints households per second, the time per evaluation, and how many
   households each benefit finds likely eligible (the EXAMPLE parameters' reach).
2. **Submission.** On a fresh SQLite database built by the migrations, with ``--prior`` earlier claims'
   keys in place (some sharing addresses), it times ``submit()`` for ``--submissions`` applications
   with the eligibility hook and again with the hook replaced by a no-op, and prints the medians and
   their ratio: what keeping the result and running every cross-check costs a citizen pressing "Send".
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import tempfile
import time
from pathlib import Path

from devstack.population import build_population
from devstack.registry_sim import services as sim
from portal.eligibility import RULES, evaluate, inputs_from_payloads, offers
from portal.registries import prefill as registry_prefill
from portal.registries import schemas

ITEMS = {"identity": "rsp", "address": "rsp", "household": "rsp", "income": "sfs", "insurance": "cnas",
         "disability": "cnddcm", "unemployment": "anofm", "births": "civil"}
ANSWERS = {"remittances": "0", "heating_source": "gas", "bank_interest": "0"}


def payloads_of(pop, idnp: str, today: dt.date) -> dict:
    """What the prefill would keep for this applicant: the simulator's answers read by the portal's schemas."""
    period = registry_prefill.income_period(today)
    params = {"period_from": period[0], "period_to": period[1]}
    query = {"de_la": period[0].isoformat(), "pana_la": period[1].isoformat()}

    def record(item: str, person) -> registry_prefill.Record:
        raw = dict(sim.SERVICES[ITEMS[item]][item](pop, person, query if item == "income" else {}))
        raw["retrieved_at"] = "2026-11-01T12:00:00+00:00"
        data = schemas.SERVICES[(ITEMS[item], item)].parse(raw, person.idnp, params if item == "income" else {})
        return registry_prefill.Record(registry=ITEMS[item], service=item, idnp=person.idnp, data=data, correlation_id="bench",
                                       retrieved_at=schemas.retrieved_at(raw))

    applicant = pop.person(idnp)
    members = [m for m, _ in pop.members(idnp)]
    names = {m.idnp: m.name for m in members}
    out = {}
    for item in ITEMS:
        whom = members if item in registry_prefill.MEMBER_ITEMS else [applicant]
        out[item] = registry_prefill._payload(item, [record(item, p) for p in whom], names, period)
    return out


def bench_rules(pop, today: dt.date) -> None:
    applicants = [h.applicant_idnp for h in pop.households.values() if pop.person(h.applicant_idnp).alive]
    started = time.perf_counter()
    all_payloads = [payloads_of(pop, idnp, today) for idnp in applicants]
    mapped = time.perf_counter() - started

    started = time.perf_counter()
    inputs = [inputs_from_payloads(idnp, p, sources=ITEMS, answers=ANSWERS) for idnp, p in zip(applicants, all_payloads)]
    adapted = time.perf_counter() - started

    likely = {code: 0 for code in RULES}
    started = time.perf_counter()
    for x in inputs:
        for code in RULES:
            if evaluate(code, x, today).likely:
                likely[code] += 1
    judged = time.perf_counter() - started

    started = time.perf_counter()
    offered = sum(len(offers(x, today)) for x in inputs)
    offering = time.perf_counter() - started

    n, evaluations = len(inputs), len(inputs) * len(RULES)
    print(f"households: {n} (population of {len(pop)} persons, as of {today})")
    print(f"  registry answers → payloads (schemas, no HTTP): {mapped:.2f} s")
    print(f"  payloads → inputs (the adapter):               {adapted * 1e6 / n:8.1f} µs per household")
    print(f"  rules, {len(RULES)} benefits:                          {judged * 1e6 / evaluations:8.1f} µs per evaluation, "
          f"{n / judged:,.0f} households per second")
    print(f"  offers (all benefits, likely only):            {offering * 1e6 / n:8.1f} µs per household, "
          f"{offered / n:.2f} offers per household")
    print(f"  ratio rules ÷ adapter per household: {(judged / n) / (adapted / n):.1f}")
    print("  likely eligible with the EXAMPLE parameters:")
    for code, count in likely.items():
        print(f"    {code:<22} {count:6d}  ({100 * count / n:5.1f}%)")


def bench_submissions(submissions: int, prior: int) -> None:
    from sqlalchemy import insert

    from portal import create_app
    from portal.accounts.models import Account
    from portal.applications import services as applications
    from portal.applications.models import Application, Claim, Evidence
    from portal.assessment import services as assessment
    from portal.assessment.models import ClaimKey
    from portal.config import load_settings
    from portal.core import clock
    from portal.core.db import db, session_scope
    from portal.core.idnp import make_idnp
    from portal.core.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="esocial-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    app = create_app(load_settings("test", overrides={"database_url": url, "instance_path": str(folder),
                                                       "secret_key": "bench" * 8}))
    now = clock.now()
    with app.app_context(), session_scope() as s:
        owner = Account(idnp=make_idnp("200900000000"), first_name="Prior", last_name="Claims")
        s.add(owner)
        s.flush()
        old = Application(applicant=owner, created_by=owner, benefits=["social_aid"], status="submitted",
                          submitted_at=now, number="ES-2026-9999999")
        s.add(old)
        s.flush()
        claim = Claim(application=old, benefit_code="social_aid", agency_code="ATAS-CENTRU")
        s.add(claim)
        s.flush()
        rows = []
        for i in range(prior):
            kind = "address" if i % 4 == 0 else "member"
            value = f"ialoveni|ialoveni|str. {i % 2000}" if kind == "address" else make_idnp(f"20080{i:07d}")
            rows.append({"claim_id": claim.id, "application_id": old.id, "benefit_code": "social_aid", "kind": kind,
                         "digest": hashlib.sha256(f"{'person' if kind == 'member' else kind}:{value}".encode())
                         .hexdigest(), "idnp": None, "applicant_idnp": make_idnp(f"20070{i:07d}"), "created_at": now})
        s.execute(insert(ClaimKey), rows)

    def one(i: int) -> float:
        with app.test_request_context(), session_scope() as s:
            idnp = make_idnp(f"20060{i:07d}")
            person = Account(idnp=idnp, first_name="Ion", last_name=f"Test{i}")
            s.add(person)
            s.flush()
            application = applications.start(s, actor=person, applicant=person, benefits=["social_aid"],
                                             language="ro")
            payloads = {
                "identity": {"idnp": idnp, "first_name": "Ion", "last_name": "Test", "birth_date": "1988-03-14",
                             "deceased_on": None},
                "address": {"raion_code": "ialoveni", "locality": "Ialoveni", "street": f"Str. {i % 2000}",
                            "country": "MD", "abroad": False, "foreign_address": None},
                "household": {"members": [{"idnp": idnp, "first_name": "Ion", "last_name": "Test",
                                           "birth_date": "1988-03-14", "relation": "applicant"}]},
                "income": {"period_from": "2026-08-01", "period_to": "2026-10-31", "household_monthly_average": 900.0,
                           "members": []},
                "insurance": {"members": []}, "disability": {"members": []}, "unemployment": {"members": []},
                "property": {"members": []},
            }
            for item, registry in applications.catalogue().items_for(["social_aid"]).items():
                s.add(Evidence(application=application, item=item, source=registry, status="fetched",
                               payload=payloads[item], fetched_at=clock.now(), confirmed=True))
            application.raion_code = "ialoveni"
            applications.save_answers(s, application, {"remittances": "0"})
            s.flush()
            s.refresh(application)
            started = time.perf_counter()
            applications.submit(s, application, actor=person)
            return time.perf_counter() - started

    with_checks = [one(i) for i in range(submissions)]
    real = assessment.at_submission
    assessment.at_submission = lambda session, application, *, actor: {}
    try:
        without = [one(submissions + i) for i in range(submissions)]
    finally:
        assessment.at_submission = real
    a, b = statistics.median(with_checks), statistics.median(without)
    print(f"submit() on SQLite with {prior:,} earlier claim keys, {submissions} applications each way:")
    print(f"  with results kept and cross-checks: median {a * 1000:.1f} ms, p95 "
          f"{sorted(with_checks)[int(len(with_checks) * 0.95)] * 1000:.1f} ms")
    print(f"  with the eligibility hook a no-op:  median {b * 1000:.1f} ms")
    print(f"  ratio: {a / b:.2f}")
    db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--prior", type=int, default=20_000)
    args = parser.parse_args()
    pop = build_population()
    bench_rules(pop, pop.today)
    bench_submissions(args.submissions, args.prior)


if __name__ == "__main__":
    main()

"""Prefill time ÷ slowest registry latency, with simulated latencies (target ≤ 1.3).

    .venv/bin/python -m bench.prefill               # the default scenarios, 7 runs each
    .venv/bin/python -m bench.prefill --runs 15

It starts the registry simulator on a free port of 127.0.0.1 (the synthetic population, real HTTP), gives
each registry a fixed latency with the simulator's ``slow`` fault, and times the prefill of an application
through the same gateway the portal uses (circuit breakers, retries; no cache: a fresh purpose each run).
For each scenario it prints the median and worst prefill time, the slowest latency among the registries the
application asks, the ratio, and what asking one registry after the other would have cost.

The household is the one limit concurrency cannot remove: the members' income, insurance, property… can
only be asked once the population register has said who the members are.  So a whole prefill about a
household takes (population register + slowest member registry), and the ratio to the slowest registry
alone is ``1 + RSP latency ÷ slowest``; the "critical path" column divides by that instead.  The portal
asks the population register while the citizen is still choosing the benefits (``prepare``, on the
benefit choice page), so what the citizen waits for after choosing is the prefill with the identity and
household already known: the "after choosing" rows time exactly that (``prefill(..., known=prepare(...))``,
the preparation done beforehand and not timed, as when the citizen takes longer to choose than the
population register takes to answer).  Applications about the applicant alone take one round either way.
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid

from werkzeug.serving import WSGIRequestHandler, make_server

from devstack.population import build_population
from devstack.registry_sim import create_app
from portal.catalogue import load_catalogue
from portal.registries.client import HttpRegistryClient, Purpose
from portal.registries.gateway import RegistryGateway
from portal.registries.prefill import FIRST, MEMBER_ITEMS, prefill, prepare

ION = "2005001000017"  # a household of four
MARIA = "2005001000039"  # lives alone

# Simulated latencies in milliseconds (examples: no published figures exist for MConnect's registries).
VARIED = {"rsp": 100, "civil": 150, "cnas": 300, "sfs": 400, "cnddcm": 250, "anofm": 180, "cadastre": 350}
UNIFORM = {code: 300 for code in VARIED}
TARGET = 1.3


class Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def set_latencies(app, latencies: dict[str, int]) -> None:
    client = app.test_client()
    client.delete("/_faults")
    for code, ms in latencies.items():
        assert client.post("/_faults", json={"registry": code, "mode": "slow", "latency_ms": ms}).status_code == 200


def run(gateway, items: dict[str, str], idnp: str, runs: int, *, ahead: bool = False) -> list[float]:
    """Times of ``runs`` prefills; with ``ahead``, of the prefill after the choice (identity and household asked
    beforehand, untimed, as the benefit choice page does)."""
    times = []
    for _ in range(runs):
        purpose = Purpose("application", "bench", idnp, correlation_id=uuid.uuid4().hex[:16])
        known = prepare(gateway, idnp, purpose) if ahead else None
        started = time.perf_counter()
        results = prefill(gateway, items, idnp, purpose, known=known)
        times.append(time.perf_counter() - started)
        bad = [i for i, r in results.items() if not r.ok]
        if bad:
            raise SystemExit(f"prefill failed for {bad}: is something else using the simulator?")
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.prefill", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)

    population = build_population()
    sim = create_app(population)
    server = make_server("127.0.0.1", 0, sim, threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    transport = HttpRegistryClient(f"http://127.0.0.1:{server.server_port}", "MD/GOV/MMPS/ESOCIAL", timeout=10)
    gateway = RegistryGateway(transport, recorder=None, cache_seconds=0)
    catalogue = load_catalogue()
    household = catalogue.items_for(["social_aid", "birth_allowance"])
    scenarios = [
        ("birth allowance, about the applicant alone", catalogue.items_for(["birth_allowance"]), ION, VARIED, False),
        ("social aid, a person living alone", catalogue.items_for(["social_aid"]), MARIA, VARIED, False),
        ("social aid + birth allowance, household of 4: whole prefill", household, ION, VARIED, False),
        ("  the same, what the citizen waits for after choosing", household, ION, VARIED, True),
        ("household of 4, every registry 300 ms: whole prefill", household, ION, UNIFORM, False),
        ("  the same, what the citizen waits for after choosing", household, ION, UNIFORM, True),
    ]
    print(f"prefill through the gateway over HTTP, {args.runs} runs each (median, worst)")
    print(f"latencies (ms): {VARIED}")
    header = f"{'scenario':<70} {'queries':>7} {'median':>8} {'worst':>8} {'slowest':>8} {'ratio':>6} " \
             f"{'crit.':>6} {'one by one':>10}"
    print(header)
    print("-" * len(header))
    verdicts = []
    try:
        for name, items, idnp, latencies, ahead in scenarios:
            set_latencies(sim, latencies)
            members = len(population.members(idnp)) if "household" in items else 1
            per_registry = [latencies[r] for item, r in items.items() if not (ahead and item in FIRST)
                            for _ in range(members if item in MEMBER_ITEMS else 1)]
            slowest = max(latencies[r] for r in items.values()) / 1000
            member_registries = [latencies[r] for item, r in items.items() if item in MEMBER_ITEMS]
            critical = slowest
            if "household" in items and members > 1 and member_registries and not ahead:
                critical = max(slowest, (latencies["rsp"] + max(member_registries)) / 1000)
            run(gateway, items, idnp, 1, ahead=ahead)  # warm the connection pool
            times = run(gateway, items, idnp, args.runs, ahead=ahead)
            median, worst = statistics.median(times), max(times)
            ratio = median / slowest
            verdicts.append((name.strip(), ratio))
            print(f"{name:<70} {len(per_registry):>7} {median * 1000:>6.0f}ms {worst * 1000:>6.0f}ms "
                  f"{slowest * 1000:>6.0f}ms {ratio:>6.2f} {median / critical:>6.2f} {sum(per_registry):>8}ms")
    finally:
        server.shutdown()
        transport.close()
    print()
    for name, ratio in verdicts:
        print(f"{'OK  ' if ratio <= TARGET else 'OVER'} {ratio:.2f} (target ≤ {TARGET}): {name}")
    print("ratio = median prefill ÷ slowest registry asked; crit. = median ÷ (population register + slowest "
          "member registry) for a whole household prefill; one by one = every query asked in turn.  "
          "\"after choosing\": identity and household asked beforehand (the benefit choice page), not timed.")


if __name__ == "__main__":
    main()

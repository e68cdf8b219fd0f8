"""Fill an application from the registries: one :class:`ItemResult` per data item.

``items`` maps each data item to the registry that holds it, exactly as
``Catalogue.items_for(...)`` returns it.  The registries are asked per person:

* ``identity``, ``address``, ``household``, ``births`` and ``marriages`` are about the applicant
  (``births``: the applicant's children registered in Moldova; ``marriages``: the applicant's marriages
  registered in Moldova, in force or ended);
* ``income``, ``insurance``, ``disability``, ``unemployment`` and ``property`` are
  about every member of the household when ``household`` is among the items
  (otherwise about the applicant alone: no household data is fetched that the
  benefit does not ask for).

Every query about the applicant starts at once, the household among them; the
queries about the other members start as soon as the household says who they
are.  So an application about the applicant alone takes about as long as its
slowest registry, and one about a household as long as the population register
plus the slowest registry asked about the members.  A caller that already knows
the household (a sweep completing a sent application) passes it as ``household``.

The worker threads run in copies of the caller's :mod:`contextvars` context, so
what the caller set up for the queries (the data-access journal) applies to them.

A registry that is down or too slow gives a ``pending`` item (ask again later;
the citizen goes on); an answer that breaks the schema gives ``failed`` with no
payload: nothing unvalidated is ever kept as truth.  The payload shapes below
are what the citizen and case-worker templates render.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from portal.core import clock, correlation
from portal.ops import metrics
from portal.registries.client import (
    Purpose,
    Record,
    RegistryClient,
    RegistryDataError,
    RegistryError,
    RegistryNotFound,
    RegistryUnavailable,
)

log = logging.getLogger("esocial.registries")

APPLICANT_ITEMS = ("identity", "address", "household", "births", "marriages")
MEMBER_ITEMS = ("income", "insurance", "disability", "unemployment", "property")
FIRST = ("identity", "household")
STATUSES = ("fetched", "pending", "failed")
MAX_WORKERS = 48  # threads wait on the network: one per query of a large household


@dataclass(frozen=True)
class ItemResult:
    """What the registries said about one data item of an application.

    ``status`` is ``fetched`` (``payload`` holds the data), ``pending`` (the registry was
    unavailable: ask again later) or ``failed`` (not found, or an answer that broke the
    schema; ``payload`` is None).  ``error`` is a short code: ``unavailable``,
    ``malformed``, ``not_found``, ``unsupported``, ``rejected``, ``household_unavailable``…
    ``fetched_at`` is when eSocial got the answer (or gave up), timezone-aware UTC.
    ``correlation_id`` finds the item's queries in the registry logs: the queries carry
    ``X-Road-Id: <correlation_id>/<n>``.  ``retrieved_at`` is the registry's own time stamp
    of its answer (the oldest, when the item took several queries): how fresh the data is.
    """

    item: str
    source: str
    status: str
    payload: dict | None
    fetched_at: dt.datetime
    error: str | None = None
    correlation_id: str | None = None
    retrieved_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status == "fetched"


def income_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 3 full calendar months before ``today``'s month (the window the rules average over)."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    for _ in range(2):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, end


@dataclass
class _Outcome:
    record: Record | None = None
    error: RegistryError | None = None
    finished_at: dt.datetime | None = None


def _ask(client: RegistryClient, registry: str, service: str, idnp: str, purpose: Purpose, cid: str,
         params: dict | None = None) -> _Outcome:
    try:
        record = client.fetch(registry, service, idnp, purpose, correlation_id=cid, params=params)
        return _Outcome(record=record, finished_at=clock.now())
    except RegistryError as exc:
        metrics.registry_error(registry, exc.code)
        return _Outcome(error=exc, finished_at=clock.now())
    except Exception as exc:  # a bug must not stop the citizen: log it, keep nothing
        log.exception("registry query %s/%s failed unexpectedly (id=%s)", registry, service, cid)
        metrics.registry_error(registry, "internal")
        return _Outcome(error=RegistryError(str(exc), registry=registry, service=service, correlation_id=cid,
                                            code="internal"), finished_at=clock.now())


def _status_of(errors: list[RegistryError]) -> tuple[str, str]:
    """The item's status and error code from its failed queries (worst first)."""
    for kind in (RegistryDataError, RegistryNotFound):
        for e in errors:
            if isinstance(e, kind):
                return "failed", e.code
    unavailable = [e for e in errors if isinstance(e, RegistryUnavailable)]
    if unavailable and len(unavailable) == len(errors):
        return "pending", "unavailable"
    other = next(e for e in errors if not isinstance(e, RegistryUnavailable))
    return "failed", other.code


def _names(results: dict[str, ItemResult], applicant_idnp: str) -> dict[str, str]:
    names = {}
    household = results.get("household")
    if household is not None and household.ok:
        for m in household.payload["members"]:
            names[m["idnp"]] = f"{m['first_name']} {m['last_name']}"
    identity = results.get("identity")
    if identity is not None and identity.ok:
        names.setdefault(applicant_idnp, f"{identity.payload['first_name']} {identity.payload['last_name']}")
    return names


def _payload(item: str, records: list[Record], names: dict[str, str], period: tuple[dt.date, dt.date]) -> dict:
    if item in APPLICANT_ITEMS or item not in MEMBER_ITEMS:
        return dict(records[0].data)
    rows = []
    for r in records:
        data = {k: v for k, v in r.data.items() if k != "idnp"}
        rows.append({"idnp": r.idnp, "name": names.get(r.idnp, ""), **data})
    if item == "income":
        members = [{"idnp": m["idnp"], "name": m["name"], "monthly_average": m["monthly_average"],
                    "sources": m["sources"]} for m in rows]
        return {"period_from": period[0].isoformat(), "period_to": period[1].isoformat(), "members": members,
                "household_monthly_average": round(sum(m["monthly_average"] for m in members), 2)}
    if item == "insurance":
        return {"members": [{"idnp": m["idnp"], "name": m["name"],
                             "insured_months_last_24": m["insured_months_last_24"],
                             "average_insured_income": m["average_insured_income"],
                             "pension": m["pension"], "benefits": m["benefits"]} for m in rows]}
    if item == "disability":
        return {"members": [{"idnp": m["idnp"], "name": m["name"], "degree": m["degree"],
                             "valid_until": m["valid_until"]} for m in rows if m["degree"]]}
    if item == "unemployment":
        return {"members": [{"idnp": m["idnp"], "name": m["name"], "registered_since": m["registered_since"]}
                            for m in rows if m["registered"]]}
    # property
    return {"members": [{"idnp": m["idnp"], "name": m["name"], "land_ha": m["land_ha"],
                         "dwellings": m["dwellings"]} for m in rows]}


def prepare(client: RegistryClient, applicant_idnp: str, purpose: Purpose, *,
            registry: str = "rsp") -> dict[str, ItemResult]:
    """Ask the population register who the applicant is and who lives with them (:data:`FIRST`), at once.

    What a prefill must know before it can ask about the other members: asked while the citizen is still
    choosing the benefits, it leaves the prefill after the choice one round of queries
    (``prefill(..., known=prepare(...))``).
    """
    return prefill(client, {item: registry for item in FIRST}, applicant_idnp, purpose)


def prefill(client: RegistryClient, items: dict[str, str], applicant_idnp: str, purpose: Purpose, *,
            today: dt.date | None = None, max_workers: int = MAX_WORKERS,
            household: dict | None = None, known: dict[str, ItemResult] | None = None) -> dict[str, ItemResult]:
    """Ask the registries for ``items`` (data item → registry code) about the applicant and their household.

    ``household``: the household payload (as the ``household`` item gives it) when the caller
    already holds it and ``household`` is not among ``items``; without either, the member items
    are about the applicant alone.  ``known``: results already in hand for some of ``items`` (from
    :func:`prepare`, fetched for the same applicant): only those fetched are used, the others asked.
    Returns one :class:`ItemResult` per item, in the order of ``items``.  Never raises for a registry
    failure: that is in the item's status.
    """
    today = today or clock.today()
    period = income_period(today)
    # Without an id of its own, the queries carry the request's (or job's) correlation id as their stem.
    base = purpose.correlation_id or correlation.child()
    cids = {item: f"{base}-{item}" for item in items}
    results: dict[str, ItemResult] = {}

    def conclude(item: str, outcomes: list[_Outcome]) -> None:
        finished = max((o.finished_at for o in outcomes if o.finished_at), default=clock.now())
        errors = [o.error for o in outcomes if o.error is not None]
        if errors:
            status, code = _status_of(errors)
            results[item] = ItemResult(item, items[item], status, None, finished, code, cids[item])
            return
        records = [o.record for o in outcomes]
        try:
            names = _names(results, applicant_idnp)
            for m in (household or {}).get("members", []):
                names.setdefault(m["idnp"], f"{m['first_name']} {m['last_name']}")
            payload = _payload(item, records, names, period)
        except (KeyError, TypeError, ValueError):  # a record that lacks what its item needs: never keep it
            log.exception("registry records for %s could not be assembled (id=%s)", item, cids[item])
            results[item] = ItemResult(item, items[item], "failed", None, finished, "malformed", cids[item])
            return
        results[item] = ItemResult(item, items[item], "fetched", payload, finished, None, cids[item],
                                   min(r.retrieved_at for r in records))

    def params_for(item: str) -> dict | None:
        return {"period_from": period[0], "period_to": period[1]} if item == "income" else None

    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="prefill") as pool:
        def ask(registry: str, item: str, idnp: str, n: int) -> Future:
            context = contextvars.copy_context()  # one copy per task: a context runs in one thread at a time
            return pool.submit(context.run, _ask, client, registry, item, idnp, purpose, f"{cids[item]}/{n}",
                               params_for(item))

        # 1. everything about the applicant at once, the household among it (unless already in hand)
        ready = {item: r for item, r in (known or {}).items() if item in items and r.ok}
        results.update(ready)
        about_applicant = {item: ask(registry, item, applicant_idnp, 1) for item, registry in items.items()
                           if item not in ready}
        for item in FIRST:
            if item in items and item not in ready:
                conclude(item, [about_applicant[item].result()])

        household_idnps = [applicant_idnp]
        blocked: tuple[str, str] | None = None
        if "household" in items:
            answer = results["household"]
            if answer.ok:
                household_idnps = [m["idnp"] for m in answer.payload["members"]]
            else:
                blocked = (answer.status, f"household_{answer.error}")
        elif household:
            household_idnps += [m["idnp"] for m in household.get("members", []) if m["idnp"] != applicant_idnp]
        others = [m for m in household_idnps if m != applicant_idnp]

        # 2. the other members, as soon as we know who they are
        pending: dict[str, list[Future]] = {}
        for item, registry in items.items():
            if item in results:
                continue
            if item in MEMBER_ITEMS and blocked is not None:
                # without the household we do not know whose data to ask for: never half a household
                results[item] = ItemResult(item, registry, blocked[0], None, clock.now(), blocked[1], cids[item])
                continue
            pending[item] = [about_applicant[item]]
            if item in MEMBER_ITEMS:
                pending[item] += [ask(registry, item, idnp, n) for n, idnp in enumerate(others, start=2)]
        for item, futures in pending.items():
            conclude(item, [f.result() for f in futures])

    return {item: results[item] for item in items}

"""The registry simulator: the state registries behind MConnect, as one HTTP service.

X-Road-style REST addresses::

    GET /r1/MD/GOV/{member}/{subsystem}/{service}/{idnp}

with ``member``/``subsystem`` from ``config/reference/registries.toml``.  The
caller must say who it is (``X-Road-Client: INSTANCE/CLASS/MEMBER/SUBSYSTEM``);
``X-Road-Id`` is echoed; ``X-Road-UserId`` (on whose behalf) and
``X-Road-Purpose`` (purpose and legal basis) are recorded with every request in
an in-memory access log (``GET /_log``), as MConnect records them in MLog.

Faults can be injected per registry for tests and demos (``POST /_faults``).

Registry change events (MConnect Events, CloudEvents v1) are served by long polling at
``GET /events?after=<id>&wait=<s>`` and made to happen with ``POST /_events`` (see
:mod:`devstack.registry_sim.events`).
"""
from __future__ import annotations

import base64
import collections
import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass
from urllib.parse import unquote

from flask import Flask, Response, jsonify, render_template_string, request

from devstack.population import Population, build_population
from devstack.registry_sim.events import MAX_LIMIT, MAX_WAIT, EventFeed, trigger
from devstack.registry_sim.services import SERVICES, BadRequest, malformed
from portal.core.idnp import is_well_formed
from portal.routing.reference import territory

DEFAULT_PORT = 5002
INSTANCE, MEMBER_CLASS = "MD", "GOV"
FAULT_MODES = ("ok", "down", "slow", "error", "malformed")
MALFORMED_VARIANTS = ("schema", "truncated", "wrong_person")
DEFAULT_LATENCY_MS = 800
MAX_LATENCY_MS = 60_000
LOG_SIZE = 5_000


@dataclass(frozen=True)
class Fault:
    mode: str
    latency_ms: int = 0
    variant: str = "schema"


class State:
    """Everything the simulator keeps between requests; shared by the server's threads."""

    def __init__(self, population: Population):
        self.population = population
        self.lock = threading.Lock()
        self.faults: dict[str, Fault] = {}
        self.log: collections.deque[dict] = collections.deque(maxlen=LOG_SIZE)
        self.registries = {code: reg for code, reg in territory().registries.items() if code in SERVICES}
        self.events = EventFeed()
        self.by_address = {(reg.member, reg.subsystem): code for code, reg in self.registries.items()}

    def fault(self, registry: str) -> Fault | None:
        with self.lock:
            return self.faults.get(registry)

    def record(self, entry: dict) -> None:
        with self.lock:
            self.log.append(entry)


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


def parse_purpose(raw: str | None) -> dict:
    """``purpose=…; legal-basis=…; ref=…`` (values percent-encoded) → a dict; anything else is kept whole."""
    out = {"purpose": None, "legal_basis": None, "application_ref": None}
    if not raw:
        return out
    parts = [p.strip() for p in raw.split(";") if p.strip()]
    if not all("=" in p for p in parts):
        out["purpose"] = unquote(raw)
        return out
    names = {"purpose": "purpose", "legal-basis": "legal_basis", "ref": "application_ref"}
    for part in parts:
        key, _, value = part.partition("=")
        if key.strip().lower() in names:
            out[names[key.strip().lower()]] = unquote(value.strip())
    return out


def create_app(population: Population | None = None) -> Flask:
    """The simulator as a Flask app; builds the default population unless one is given."""
    app = Flask(__name__)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    state = State(population if population is not None else build_population())
    app.extensions["registry_sim"] = state

    @app.get("/r1/<instance>/<member_class>/<member>/<subsystem>/<service>/<idnp>")
    def query(instance, member_class, member, subsystem, service, idnp):
        started = time.perf_counter()
        client = request.headers.get("X-Road-Client", "").strip()
        xroad_id = request.headers.get("X-Road-Id", "").strip()
        registry = state.by_address.get((member, subsystem)) if (instance, member_class) == (INSTANCE, MEMBER_CLASS) else None
        purpose = parse_purpose(request.headers.get("X-Road-Purpose"))
        entry = {
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "client": client or None, "id": xroad_id or None,
            "user_id": request.headers.get("X-Road-UserId") or None,
            "purpose": purpose["purpose"], "legal_basis": purpose["legal_basis"],
            "application_ref": purpose["application_ref"],
            "registry": registry, "service": service, "subject": idnp, "path": request.path,
            "fault": None, "status": None, "duration_ms": None,
        }

        def finish(response: Response) -> Response:
            if xroad_id:
                response.headers["X-Road-Id"] = xroad_id
            digest = hashlib.sha512(f"{request.method} {request.full_path} {client} {xroad_id}".encode()).digest()
            response.headers["X-Road-Request-Hash"] = base64.b64encode(digest).decode()
            entry["status"] = response.status_code
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            state.record(entry)
            return response

        if not client:
            return finish(_error(400, "missing_client", "the X-Road-Client header is required"))
        if len(client.split("/")) != 4 or not all(client.split("/")):
            return finish(_error(400, "invalid_client", "X-Road-Client is INSTANCE/CLASS/MEMBER/SUBSYSTEM"))
        handler = SERVICES.get(registry, {}).get(service) if registry else None
        if handler is None:
            return finish(_error(404, "unknown_service", f"no service {service} at {member}/{subsystem}"))
        if not is_well_formed(idnp):
            return finish(_error(400, "invalid_idnp", "the IDNP must be 13 digits with a valid check digit"))

        fault = state.fault(registry)
        if fault is not None:
            entry["fault"] = fault.mode
            if fault.mode == "slow":
                time.sleep(fault.latency_ms / 1000)
            elif fault.mode == "down":
                response = _error(503, "unavailable", f"{registry} is temporarily unavailable")
                response.headers["Retry-After"] = "30"
                return finish(response)
            elif fault.mode == "error":
                return finish(_error(500, "internal_error", f"{registry} failed to answer"))

        person = state.population.person(idnp)
        if person is None:
            return finish(_error(404, "not_found", f"{registry} holds no record of this IDNP"))
        try:
            answer = handler(state.population, person, request.args)
        except BadRequest as exc:
            return finish(_error(400, "bad_request", str(exc)))
        answer["retrieved_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        if fault is not None and fault.mode == "malformed":
            body, content_type = malformed(registry, service, answer, fault.variant, state.population)
            if isinstance(body, str):
                return finish(Response(body, status=200, content_type=content_type))
            return finish(jsonify(body))
        return finish(jsonify(answer))

    @app.get("/events")
    def events():
        """MConnect Events by long polling: CloudEvents after ``after``, waiting up to ``wait`` s for one."""
        client = request.headers.get("X-Road-Client", "").strip()
        if len(client.split("/")) != 4 or not all(client.split("/")):
            return _error(400, "missing_client", "the X-Road-Client header is required")
        try:
            after = int(request.args.get("after", "0"))
            wait = float(request.args.get("wait", "0"))
            limit = int(request.args.get("limit", "100"))
        except ValueError:
            return _error(400, "bad_request", "after and limit are integers, wait is seconds")
        if after < 0 or not 0 <= wait <= MAX_WAIT or not 1 <= limit <= MAX_LIMIT:
            return _error(400, "bad_request", f"after ≥ 0, 0 ≤ wait ≤ {MAX_WAIT:.0f}, 1 ≤ limit ≤ {MAX_LIMIT}")
        fault = state.fault("events")
        if fault is not None and fault.mode in ("down", "error"):
            return _error(503 if fault.mode == "down" else 500, "unavailable", "the event feed is unavailable")
        batch = state.events.wait(after, wait, limit) if wait else state.events.after(after, limit)
        state.record({"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
                      "client": client, "id": request.headers.get("X-Road-Id"), "user_id": None, "purpose": None,
                      "legal_basis": None, "application_ref": None, "registry": "events", "service": "events",
                      "subject": None, "path": request.full_path, "fault": None, "status": 200,
                      "duration_ms": None})
        response = Response(json.dumps(batch, ensure_ascii=False), status=200,
                            content_type="application/cloudevents-batch+json; charset=utf-8")
        response.headers["X-Events-Last-Id"] = str(state.events.last_id)
        return response

    @app.post("/_events")
    def publish_event():
        """Make a life event happen (for demos and tests): the registries change, then the event is published."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "bad_request", "send JSON: {type: birth|death|address|disability|unemployment, …}")
        try:
            with state.lock:
                event = trigger(state.population, state.events, body)
        except (ValueError, KeyError) as exc:
            return _error(400, "bad_event", str(exc))
        response = jsonify(event)
        response.status_code = 201
        return response

    @app.delete("/_events")
    def clear_events():
        state.events.clear()
        return jsonify([])

    @app.get("/_faults")
    def get_faults():
        with state.lock:
            return jsonify({code: asdict(f) for code, f in sorted(state.faults.items())})

    @app.post("/_faults")
    def set_faults():
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return _error(400, "bad_request", "send JSON: {registry, mode, latency_ms?, variant?}")
        registry = data.get("registry")
        mode = data.get("mode")
        targets = list(state.registries) if registry in ("*", "all") else [registry]
        if any(t not in state.registries and t != "events" for t in targets):
            return _error(400, "unknown_registry",
                          f"registry is one of {', '.join(state.registries)}, events (the event feed) or *")
        if mode not in FAULT_MODES:
            return _error(400, "unknown_mode", f"mode is one of {', '.join(FAULT_MODES)}")
        latency = data.get("latency_ms", DEFAULT_LATENCY_MS if mode == "slow" else 0)
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= MAX_LATENCY_MS:
            return _error(400, "bad_latency", f"latency_ms is an integer from 0 to {MAX_LATENCY_MS}")
        variant = data.get("variant", "schema")
        if variant not in MALFORMED_VARIANTS:
            return _error(400, "unknown_variant", f"variant is one of {', '.join(MALFORMED_VARIANTS)}")
        with state.lock:
            for target in targets:
                if mode == "ok":
                    state.faults.pop(target, None)
                else:
                    state.faults[target] = Fault(mode, latency, variant)
            return jsonify({code: asdict(f) for code, f in sorted(state.faults.items())})

    @app.delete("/_faults")
    def clear_faults():
        with state.lock:
            state.faults.clear()
        return jsonify({})

    @app.get("/_log")
    def get_log():
        """The access log, newest last; filter with ``id`` (X-Road-Id prefix), ``registry``, ``subject``, ``limit``."""
        with state.lock:
            entries = list(state.log)
        if request.args.get("id"):
            entries = [e for e in entries if (e["id"] or "").startswith(request.args["id"])]
        for key in ("registry", "subject", "user_id"):
            if request.args.get(key):
                entries = [e for e in entries if e[key] == request.args[key]]
        limit = request.args.get("limit", type=int) or 200
        return jsonify(entries[-limit:])

    @app.delete("/_log")
    def clear_log():
        with state.lock:
            state.log.clear()
        return jsonify([])

    @app.get("/")
    def index():
        with state.lock:
            faults = dict(state.faults)
        services = [(code, reg, list(SERVICES[code])) for code, reg in state.registries.items()]
        pop = state.population
        return render_template_string(
            PAGE, services=services, faults=faults, samples=pop.samples(), pop=pop, last_event=state.events.last_id,
            raions=len(pop.raion_codes()), instance=INSTANCE, member_class=MEMBER_CLASS)

    return app


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Registry simulator · eSocial devstack</title>
<style>
 body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#1b1b1b}
 table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
 code{background:#f3f3f3;padding:0 .2rem}.down{color:#b00020}.ok{color:#1b5e20}
</style></head><body>
<h1>Registry simulator</h1>
<p>Stand-in for the state registries reached through MConnect (X-Road style). Synthetic population:
{{ pop|length }} persons, {{ pop.households|length }} households in {{ raions }} raions, as of {{ pop.today }}
(seed {{ pop.seed }}). Every person is fictitious.</p>
<h2>Registries</h2>
<table><tr><th>Code</th><th>Registry</th><th>Services</th><th>State</th></tr>
{% for code, reg, names in services %}<tr><td><code>{{ code }}</code></td><td>{{ reg.name.get('en', reg.name.get('ro', code)) }}</td>
<td>{% for s in names %}<code>/r1/{{ instance }}/{{ member_class }}/{{ reg.member }}/{{ reg.subsystem }}/{{ s }}/&lt;idnp&gt;</code><br>{% endfor %}</td>
<td>{% if code in faults %}<span class="down">{{ faults[code].mode }}{% if faults[code].mode == 'slow' %} {{ faults[code].latency_ms }} ms{% endif %}</span>{% else %}<span class="ok">ok</span>{% endif %}</td></tr>
{% endfor %}</table>
<h2>Sample IDNPs</h2>
<table><tr><th>Who</th><th>IDNP</th></tr>
{% for label, idnp in samples.items() %}<tr><td>{{ label }}</td><td><code>{{ idnp }}</code></td></tr>{% endfor %}</table>
<h2>Use</h2>
<p>Every query needs <code>X-Road-Client: MD/GOV/MMPS/ESOCIAL</code>; send <code>X-Road-Id</code>,
<code>X-Road-UserId</code> and <code>X-Road-Purpose: purpose=…; legal-basis=…; ref=…</code> (values percent-encoded).
Access log: <a href="/_log">/_log</a>. Faults: <a href="/_faults">/_faults</a>; set one with
<code>POST /_faults {"registry": "cnas", "mode": "down"|"slow"|"error"|"malformed"|"ok", "latency_ms": 800}</code>.</p>
<h2>Events (MConnect Events)</h2>
<p>CloudEvents v1, structured mode, by long polling: <code>GET /events?after=&lt;id&gt;&amp;wait=&lt;seconds&gt;</code>
(with <code>X-Road-Client</code>), kept 5 days; {{ last_event }} published so far. Make one happen with
<code>POST /_events {"type": "birth", "parent": "&lt;idnp&gt;"}</code>, or <code>"death"</code>, <code>"address"</code>
(<code>"raion"</code>), <code>"disability"</code> (<code>"degree"</code>), <code>"unemployment"</code> with <code>"idnp"</code>.</p>
</body></html>
"""

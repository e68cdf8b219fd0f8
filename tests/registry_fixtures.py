"""Fixtures for the registry tests: the synthetic population and the registry simulator served over real HTTP.

Loaded by the registry test modules with ``pytest_plugins = ["registry_fixtures"]``.  The population
is built once per run (as of today's date by ``portal.core.clock``); the simulator listens on a free
port of 127.0.0.1 in a background thread; faults and the access log are reset around every test that
uses ``registry``.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from registry_helpers import CLIENT_ID, point_portal_at, unpoint_portal  # noqa: F401 - used by the tests too


@lru_cache(maxsize=1)
def shared_population():
    from devstack.population import build_population

    return build_population()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # keep test output clean; errors are still logged
        pass


@dataclass
class RegistrySimulator:
    base_url: str
    app: object

    @property
    def state(self):
        return self.app.extensions["registry_sim"]

    def fault(self, registry: str, mode: str, latency_ms: int | None = None, variant: str | None = None) -> None:
        body = {"registry": registry, "mode": mode}
        if latency_ms is not None:
            body["latency_ms"] = latency_ms
        if variant is not None:
            body["variant"] = variant
        response = requests.post(f"{self.base_url}/_faults", json=body, timeout=5)
        response.raise_for_status()

    def reset(self) -> None:
        requests.delete(f"{self.base_url}/_faults", timeout=5).raise_for_status()
        requests.delete(f"{self.base_url}/_log", timeout=5).raise_for_status()

    def log(self, **filters) -> list[dict]:
        response = requests.get(f"{self.base_url}/_log", params={"limit": 5000, **filters}, timeout=5)
        response.raise_for_status()
        return response.json()

    def queries(self, **filters) -> list[dict]:
        """The access log without the event feed's requests."""
        return [e for e in self.log(**filters) if e["registry"] != "events"]

    def event(self, **body) -> dict:
        """Make a life event happen (``type`` = birth, death, address, disability, unemployment or raw)."""
        response = requests.post(f"{self.base_url}/_events", json=body, timeout=5)
        assert response.status_code == 201, response.text
        return response.json()

    def events(self, after: int = 0, wait: float = 0) -> list[dict]:
        response = requests.get(f"{self.base_url}/events", params={"after": after, "wait": wait},
                                headers={"X-Road-Client": CLIENT_ID}, timeout=5 + wait)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def population():
    return shared_population()


def _serve(population):
    from devstack.registry_sim import create_app

    app = create_app(population)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="registry-sim",
                              daemon=True)
    thread.start()
    try:
        yield RegistrySimulator(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def registry_server(population):
    yield from _serve(population)


@pytest.fixture(scope="module")
def changing_registry():
    """A simulator of its own, on a population of its own: life events change it without touching the shared one."""
    from devstack.population import build_population

    yield from _serve(build_population(size=2000))


@pytest.fixture
def registry(registry_server):
    """The running simulator with no faults and an empty log, reset again afterwards."""
    registry_server.reset()
    yield registry_server
    registry_server.reset()


@pytest.fixture
def portal_registries(app, registry):
    """The portal (its gateway: breakers, cache, access log) pointed at the shared simulator."""
    point_portal_at(app, registry)
    yield registry
    unpoint_portal(app)


@pytest.fixture
def registry_client(registry):
    from portal.registries.client import HttpRegistryClient

    client = HttpRegistryClient(registry.base_url, CLIENT_ID, timeout=2.0)
    yield client
    client.close()

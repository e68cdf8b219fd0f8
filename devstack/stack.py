"""The embedded default: the portal and every stand-in it needs, on one machine.

Each part is a real server on its own port: the development MPass IdP (SAML),
the registry simulator (HTTP), the SMTP sink and the SMS gateway stand-in.
The portal reaches them exactly as it would reach the real services, through
its settings.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from portal.config import Settings, load_settings

log = logging.getLogger("devstack")


@dataclass
class Ports:
    portal: int = 5000
    idp: int = 5001
    registry: int = 5002
    inbox: int = 5003
    smtp: int = 1025


class _Server(threading.Thread):
    def __init__(self, name: str, host: str, port: int, app) -> None:
        super().__init__(name=name, daemon=True)
        self.server = make_server(host, port, app, threaded=True)
        self.port = self.server.server_port

    def run(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()


def stack_settings(instance: Path, ports: Ports, host_name: str = "localhost",
                   database_url: str | None = None) -> Settings:
    """Development settings pointed at this stack's ports and instance folder."""
    base = f"http://{host_name}:{ports.portal}"
    saml = instance / "saml"
    return load_settings("development", overrides={
        "instance_path": str(instance),
        "database_url": database_url or f"sqlite:///{instance / 'esocial.db'}",
        "upload_dir": str(instance / "uploads"),
        "base_url": base,
        "sp_entity_id": f"{base}/auth/metadata",
        "sp_cert_file": str(saml / "sp.crt"),
        "sp_key_file": str(saml / "sp.key"),
        "idp_metadata_file": str(saml / "dev-idp-metadata.xml"),
        "registry_base_url": f"http://127.0.0.1:{ports.registry}",
        "smtp_host": "127.0.0.1",
        "smtp_port": ports.smtp,
        "sms_gateway_url": f"http://127.0.0.1:{ports.inbox}/sms/send",
    })


class Stack:
    """Start and stop everything; used by ``python -m devstack`` and by the browser tests."""

    def __init__(self, instance: Path, ports: Ports | None = None, host: str = "127.0.0.1",
                 host_name: str = "localhost", database_url: str | None = None,
                 idp_host_name: str | None = None) -> None:
        self.instance = Path(instance)
        self.ports = ports or Ports()
        self.host = host
        self.host_name = host_name
        self.idp_host_name = idp_host_name or host_name  # another name = another site, as MPass is
        self.settings = stack_settings(self.instance, self.ports, host_name, database_url)
        self.servers: list[_Server] = []
        self.stop_event = threading.Event()
        self.inbox = None
        self.app = None

    def url(self, part: str) -> str:
        host = self.idp_host_name if part == "idp" else self.host_name
        return f"http://{host}:{getattr(self.ports, part)}"

    def start(self) -> "Stack":
        from devstack import demo, idp, inbox, registry_sim
        from devstack.keys import ensure_keypair
        from portal import create_app
        from portal.auth.saml import sp_metadata_xml
        from portal.core.db import session_scope
        from portal.core.migrate import upgrade
        from portal.jobs import run_scheduler
        from portal.notifications.delivery import run_worker

        self.instance.mkdir(parents=True, exist_ok=True)
        saml_dir = self.instance / "saml"
        ensure_keypair(saml_dir, "sp")
        sp_metadata = saml_dir / "sp-metadata.xml"
        sp_metadata.write_text(sp_metadata_xml(self.settings), encoding="utf-8")
        idp_app = idp.create_app(base_url=self.url("idp"), instance_dir=self.instance, sp_metadata_file=sp_metadata)

        upgrade(self.settings.database_url)
        self.app = create_app(self.settings)
        with self.app.app_context():
            with session_scope() as session:
                demo.seed(session)

        self.inbox = inbox.Inbox(smtp_host="127.0.0.1", smtp_port=self.ports.smtp)
        self.inbox.start()
        self.servers = [
            _Server("registry-simulator", self.host, self.ports.registry, registry_sim.create_app()),
            _Server("mpass-dev-idp", self.host, self.ports.idp, idp_app),
            _Server("inbox", self.host, self.ports.inbox, inbox.create_app(self.inbox)),
            _Server("portal", self.host, self.ports.portal, self.app),
        ]
        for server in self.servers:
            server.start()
        threading.Thread(target=run_worker, args=(self.app, self.stop_event), name="notification-worker",
                         daemon=True).start()
        threading.Thread(target=run_scheduler, args=(self.app, self.stop_event), name="scheduler",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for server in reversed(self.servers):
            server.stop()
        if self.inbox is not None:
            self.inbox.stop()

    def banner(self) -> str:
        return "\n".join([
            "eSocial is running (embedded default):",
            f"  portal                 {self.url('portal')}",
            f"  MPass development IdP  {self.url('idp')}/meta/saml",
            f"  registry simulator     {self.url('registry')}",
            f"  mail and SMS inbox     {self.url('inbox')}",
            f"  SMTP sink              127.0.0.1:{self.ports.smtp}",
            f"  integration API        {self.url('portal')}/api/v1/docs"
            "  (demo client per agency: demo-atas-centru / demo-secret-atas-centru, …)",
            "Press Ctrl+C to stop.",
        ])

"""Session fixtures for SAML: SP keys, the in-test MPass (the real dev IdP, pysaml2), and the settings that trust it.

Loaded from tests/conftest.py (``pytest_plugins``).  Every test app is built with
``saml_settings_overrides``, so each one trusts the in-test IdP and can log in for real.
"""
from __future__ import annotations

from pathlib import Path

import pytest

IDP_BASE_URL = "http://idp.test"


@pytest.fixture(scope="session")
def saml_dir(instance_dir) -> Path:
    path = instance_dir / "saml"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def sp_metadata_file(instance_dir, saml_dir) -> Path:
    """Our SP metadata, written as the dev launcher does, for the IdP to read."""
    from devstack.keys import ensure_keypair
    from portal.auth.saml import sp_metadata_xml
    from portal.config import load_settings

    cert, key = ensure_keypair(saml_dir, "sp")
    provisional = load_settings("test", overrides={"instance_path": str(instance_dir), "sp_cert_file": str(cert),
                                                   "sp_key_file": str(key)})
    path = saml_dir / "sp-metadata.xml"
    path.write_text(sp_metadata_xml(provisional), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def idp_app(instance_dir, sp_metadata_file):
    """The development MPass as its own Flask app (not served: driven through its test client)."""
    from devstack.idp import create_app

    app = create_app(base_url=IDP_BASE_URL, instance_dir=instance_dir, sp_metadata_file=sp_metadata_file)
    app.config.update(TESTING=True)
    return app


@pytest.fixture(scope="session")
def saml_settings_overrides(saml_dir, idp_app) -> dict:
    idp = idp_app.extensions["dev_idp"]
    return {
        "sp_cert_file": str(saml_dir / "sp.crt"),
        "sp_key_file": str(saml_dir / "sp.key"),
        "idp_metadata_file": str(idp.metadata_file),
    }


@pytest.fixture(scope="session")
def idp(idp_app):
    """Drive the in-test IdP directly: read our requests, answer them (see tests/saml_helpers.py)."""
    from saml_helpers import InTestIdP

    return InTestIdP(idp_app.extensions["dev_idp"])


@pytest.fixture(scope="session")
def rogue_idp(saml_dir, sp_metadata_file):
    """An IdP claiming MPass's entity id but signing with a key the portal does not trust."""
    from devstack.idp import server as idp_server
    from devstack.keys import ensure_keypair
    from saml_helpers import InTestIdP

    cert, key = ensure_keypair(saml_dir / "rogue", "rogue-idp")
    server = idp_server.build_server(base_url=IDP_BASE_URL, cert_file=cert, key_file=key,
                                     sp_metadata_files=[sp_metadata_file])
    return InTestIdP(None, server=server)


@pytest.fixture
def idp_client(idp_app):
    return idp_app.test_client()

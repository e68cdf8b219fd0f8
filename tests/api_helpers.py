"""Helpers for the integration API tests: a client system per agency and a bearer token for it."""
from __future__ import annotations

from portal.api import auth
from portal.core.db import db
from portal.routing.rules import route


def make_client(app, agency: str, client_id: str | None = None, secret: str | None = None):
    with app.app_context():
        client, secret = auth.create_client(db.session, client_id=client_id or f"sys-{agency.lower()}",
                                            name=f"{agency} system", agency_code=agency, secret=secret)
        db.session.commit()
        return client.client_id, secret


def token(http, client_id: str, secret: str) -> str:
    response = http.post("/api/v1/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                      "client_secret": secret})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def bearer(http, client_id: str, secret: str) -> dict:
    return {"Authorization": f"Bearer {token(http, client_id, secret)}"}


def agency_of(benefit: str, raion: str) -> str:
    return route(benefit, raion)

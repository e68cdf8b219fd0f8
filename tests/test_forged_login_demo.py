"""The demo's forged login: the development MPass's clearly labelled button sends a Response signed for one
person and changed to another; the portal refuses it with a readable page, and nobody is logged in."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from devstack.demo_people import CITIZENS
from portal.accounts.models import Account, LoginSession
from portal.audit.models import AuditEvent
from portal.core.db import db
from saml_helpers import english_client, post_form, unb64
from test_saml_idp import path_of, portal_login_form


def test_the_forged_answer_button_is_refused_by_the_portal(app, idp_client):
    portal = english_client(app)
    action, fields = portal_login_form(portal)
    picker_url = idp_client.post(path_of(action), data=fields).headers["Location"]
    picker = idp_client.get(picker_url).get_data(as_text=True)
    assert "Security demonstration" in picker and "Send a forged answer (demonstration)" in picker
    autopost = idp_client.post(urlsplit(picker_url).path + "/forged", data={"lang": "en"})
    assert autopost.status_code == 200
    acs, response_fields = post_form(autopost.get_data(as_text=True))
    assert CITIZENS[1].idnp in unb64(response_fields["SAMLResponse"])  # it claims to be Natalia

    refused = portal.post("/auth/acs", data=response_fields)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "You have not been logged in" in page
    assert "eSocial could not verify the answer from MPass. For your safety you have not been logged in." in page
    assert "Traceback" not in page and "Signature" not in page
    assert portal.get("/applications").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
        assert db.session.scalar(select(func.count()).select_from(Account)) == 0
        reasons = [e.details["reason"] for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login_refused"))]
        assert reasons == ["bad_signature"]

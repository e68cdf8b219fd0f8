"""Schemathesis against the served OpenAPI document, in-process over WSGI: generated requests to every operation
must never get a server error, an undocumented status, or a body that breaks the document's schema.

Examples are few per operation (the suite must stay fast); path references point at a real case of the
client's agency so the write operations run their validation and rules, not only the 404.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from api_helpers import agency_of, make_client, token
from backoffice_helpers import person, submitted
from portal.core.db import db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(app):  # noqa: D103
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def caller(app):
    with app.app_context():
        applicant = person(db.session, "Ion", "Rusu")
        application = submitted(db.session, applicant, ["social_aid", "cold_season_aid"], raion="ialoveni")
        db.session.commit()
        from portal.backoffice.models import AgencyCase

        case = db.session.get(AgencyCase, application.claims[0].case_id)
        refs = {"case": case.ref, "claims": [c.ref for c in case.claims], "agency": case.agency_code}
    cid, secret = make_client(app, agency_of("social_aid", "ialoveni"))
    return {"token": token(app.test_client(), cid, secret), **refs}


def test_api_conforms_to_its_openapi_document(api_schema, caller):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def check(case):
            if "ref" in (case.path_parameters or {}) and case.path.startswith("/api/v1/cases"):
                case.path_parameters["ref"] = caller["case"]
            if isinstance(case.body, dict) and "claim" in case.body and case.path.startswith("/api/v1/cases"):
                case.body["claim"] = caller["claims"][0]
            case.call_and_validate(headers={"Authorization": f"Bearer {caller['token']}"}, checks=CHECKS)

        check()

"""The OpenAPI 3.0 document of ``/api/v1``, served by the app and checked by schemathesis in the tests."""
from __future__ import annotations

from portal.api.cases import CASE_STATUSES, MAX_CURSOR, MAX_PER_PAGE
from portal.api.webhooks import EVENT_TYPES
from portal.applications import status as st

CLAIM_STATUSES = [st.SUBMITTED, st.IN_REVIEW, st.INFO_REQUESTED, st.INFO_PROVIDED, st.APPROVED, st.REJECTED,
                  st.APPEALED, st.AWAITING_DATA, "transferred"]

_nullable_str = {"type": "string", "nullable": True}
_dt = {"type": "string", "format": "date-time", "nullable": True}


def _err(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


_ref = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 32}}
_idem = {"name": "Idempotency-Key", "in": "header", "required": True,
         "description": "Any unique string (a UUID). The same key with the same body returns the stored answer; "
                        "with another body, 409.",
         "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"}}
_common = {"401": _err("No valid bearer token"), "429": _err("Too many requests")}
_write = {**_common, "400": _err("Malformed request"), "404": _err("No such case for this client"),
          "409": _err("Not allowed by the status table, or the Idempotency-Key was used with another body"),
          "422": _err("Refused by the rules (a reason is missing, …)")}


def _json_body(ref: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def document(server_url: str = "/") -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "eSocial integration API", "version": "1.0.0",
                 "description": "For the agencies' own information systems: the cases routed to the agency, "
                                "their registry data and documents, status changes, requests for information, "
                                "decisions and webhooks. OAuth2 client credentials; every write takes an "
                                "Idempotency-Key."},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/oauth/token": {"post": {
                "operationId": "token", "security": [], "summary": "Get a bearer token (client credentials)",
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["grant_type"],
                    "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]},
                                   "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}}}},
                "responses": {"200": {"description": "A token", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Token"}}}},
                    "400": {"description": "Bad request", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/OAuthError"}}}},
                    "401": {"description": "Unknown client or wrong secret", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/OAuthError"}}}},
                    "429": _err("Too many requests")}}},
            "/api/v1/cases": {"get": {
                "operationId": "listCases", "summary": "The cases routed to the client's agency",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(CASE_STATUSES)}},
                    {"name": "claim_status", "in": "query", "schema": {"type": "string", "enum": CLAIM_STATUSES}},
                    {"name": "benefit", "in": "query", "schema": {"type": "string", "maxLength": 64}},
                    {"name": "submitted_from", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "submitted_to", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "changed_since", "in": "query", "description": "A cursor from an earlier answer",
                     "schema": {"type": "integer", "minimum": 0, "maximum": MAX_CURSOR}},
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
                    {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}},
                ],
                "responses": {"200": {"description": "A page of cases", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CasePage"}}}}, "400": _err("Malformed filter"), **_common}}},
            "/api/v1/cases/{ref}": {"get": {
                "operationId": "getCase", "summary": "One case with its registry data and documents",
                "parameters": [_ref],
                "responses": {"200": {"description": "The case", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CaseDetail"}}}}, "404": _err("No such case for this client"),
                    **_common}}},
            "/api/v1/cases/{ref}/documents/{doc_ref}": {"get": {
                "operationId": "getDocument", "summary": "Download a document of the case",
                "parameters": [_ref, {"name": "doc_ref", "in": "path", "required": True,
                                      "schema": {"type": "string", "maxLength": 32}}],
                "responses": {"200": {"description": "The file", "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}}}, "404": _err("No such document"), **_common}}},
            "/api/v1/cases/{ref}/status": {"post": {
                "operationId": "changeStatus",
                "summary": "Move a claim of the case (in_review, info_requested, approved, rejected), "
                           "by the same status table and services as the back office",
                "parameters": [_ref, _idem], "requestBody": _json_body("StatusChange"),
                "responses": {"200": {"description": "The case after the change", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/CaseDetail"}}}}, **_write}}},
            "/api/v1/cases/{ref}/information-requests": {"post": {
                "operationId": "requestInformation", "summary": "Ask the applicant for more information",
                "parameters": [_ref, _idem], "requestBody": _json_body("InformationRequest"),
                "responses": {"200": {"description": "The case after the request", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/CaseDetail"}}}}, **_write}}},
            "/api/v1/cases/{ref}/decisions": {"post": {
                "operationId": "decide", "summary": "Approve or reject one claim of the case (issues the letter)",
                "parameters": [_ref, _idem], "requestBody": _json_body("DecisionInput"),
                "responses": {"200": {"description": "The case after the decision", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/CaseDetail"}}}}, **_write}}},
            "/api/v1/webhooks": {
                "get": {"operationId": "listWebhooks", "summary": "The client's webhook subscriptions",
                        "responses": {"200": {"description": "Subscriptions", "content": {"application/json": {
                            "schema": {"type": "object", "required": ["items"], "properties": {"items": {
                                "type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}}}}}}, **_common}},
                "post": {"operationId": "subscribe", "summary": "Subscribe a URL to new and changed cases; "
                                                               "the signing secret is shown once",
                         "parameters": [_idem], "requestBody": _json_body("WebhookInput"),
                         "responses": {"201": {"description": "Subscribed", "content": {"application/json": {
                             "schema": {"$ref": "#/components/schemas/WebhookCreated"}}}},
                             **{k: v for k, v in _write.items() if k != "404"}}}},
            "/api/v1/webhooks/{ref}": {"delete": {
                "operationId": "unsubscribe", "summary": "End a subscription", "parameters": [_ref, _idem],
                "responses": {"200": {"description": "Ended", "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/Webhook"}}}}, **_write}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "From POST /api/v1/oauth/token"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
                "OAuthError": {"type": "object", "required": ["error"],
                               "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}}},
                "Token": {"type": "object", "required": ["access_token", "token_type", "expires_in"],
                          "properties": {"access_token": {"type": "string"},
                                         "token_type": {"type": "string", "enum": ["Bearer"]},
                                         "expires_in": {"type": "integer"}}},
                "Claim": {"type": "object", "required": ["ref", "benefit", "status"], "properties": {
                    "ref": {"type": "string"}, "benefit": {"type": "string"}, "status": {"type": "string"},
                    "decided_at": _dt, "decision_reason": _nullable_str, "updated_at": _dt}},
                "Case": {"type": "object", "required": ["ref", "agency", "status", "claims"], "properties": {
                    "ref": {"type": "string"}, "agency": {"type": "string"},
                    "status": {"type": "string", "enum": list(CASE_STATUSES)},
                    "application_number": _nullable_str, "channel": {"type": "string"}, "raion": _nullable_str,
                    "submitted_at": _dt, "due_on": {"type": "string", "format": "date", "nullable": True},
                    "created_at": _dt, "updated_at": _dt,
                    "claims": {"type": "array", "items": {"$ref": "#/components/schemas/Claim"}}}},
                "CaseDetail": {"allOf": [{"$ref": "#/components/schemas/Case"}, {
                    "type": "object", "required": ["registry_data", "documents"], "properties": {
                        "registry_data": {"type": "array", "items": {"type": "object", "required": ["item", "source"],
                                          "properties": {"item": {"type": "string"}, "source": {"type": "string"},
                                                         "status": {"type": "string"}, "payload": {},
                                                         "fetched_at": _dt,
                                                         "confirmed": {"type": "boolean", "nullable": True},
                                                         "dispute_note": _nullable_str}}},
                        "documents": {"type": "array", "items": {"type": "object", "required": ["ref", "kind"],
                                      "properties": {"ref": {"type": "string"}, "kind": {"type": "string"},
                                                     "filename": {"type": "string"},
                                                     "content_type": {"type": "string"},
                                                     "size": {"type": "integer"}, "uploaded_at": _dt,
                                                     "download_url": _nullable_str}}}}}]},
                "CasePage": {"type": "object", "required": ["items", "total", "page", "per_page", "cursor"],
                             "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
                                            "total": {"type": "integer"}, "page": {"type": "integer"},
                                            "per_page": {"type": "integer"}, "cursor": {"type": "integer"}}},
                "StatusChange": {"type": "object", "required": ["status"], "properties": {
                    "claim": {"type": "string", "description": "The claim (benefit) to move; all the case's "
                                                               "claims that can move when left out (in_review only)"},
                    "status": {"type": "string", "enum": [st.IN_REVIEW, st.INFO_REQUESTED, st.APPROVED, st.REJECTED]},
                    "note": {"type": "string", "maxLength": 4000,
                             "description": "The question (info_requested) or the reason (rejected)"}}},
                "InformationRequest": {"type": "object", "required": ["question"], "properties": {
                    "question": {"type": "string", "maxLength": 4000}}},
                "DecisionInput": {"type": "object", "required": ["claim", "outcome"], "properties": {
                    "claim": {"type": "string"}, "outcome": {"type": "string", "enum": [st.APPROVED, st.REJECTED]},
                    "amount": {"type": "string", "pattern": "^[0-9]{1,7}(\\.[0-9]{1,2})?$",
                               "description": "Lei; computed by the eligibility rules when left out"},
                    "period": {"type": "string", "enum": ["monthly", "one_off"]},
                    "start_date": {"type": "string", "format": "date"},
                    "reason_code": {"type": "string", "maxLength": 64},
                    "reason": {"type": "string", "maxLength": 4000}}},
                "WebhookInput": {"type": "object", "required": ["url"], "properties": {
                    "url": {"type": "string", "format": "uri", "maxLength": 500, "pattern": "^https?://"},
                    "events": {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)},
                               "minItems": 1, "uniqueItems": True}}},
                "Webhook": {"type": "object", "required": ["ref", "url", "events", "active"], "properties": {
                    "ref": {"type": "string"}, "url": {"type": "string"},
                    "events": {"type": "array", "items": {"type": "string"}}, "active": {"type": "boolean"},
                    "created_at": _dt}},
                "WebhookCreated": {"allOf": [{"$ref": "#/components/schemas/Webhook"}, {
                    "type": "object", "required": ["secret"], "properties": {"secret": {"type": "string"}}}]},
            },
        },
    }

"""Every route declares who may use it, and the public URLs do not vanish by accident."""
from portal.core.security import permission_of

# Endpoints Flask adds itself.
BUILTIN = {"static"}


def test_every_route_declares_a_permission(app):
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if rule.endpoint not in BUILTIN and permission_of(app.view_functions[rule.endpoint]) is None]
    assert missing == [], f"routes without a permission decorator: {missing}"


def test_public_urls_are_stable(app):
    public = sorted(str(rule) for rule in app.url_map.iter_rules()
                    if rule.endpoint not in BUILTIN and permission_of(app.view_functions[rule.endpoint]) == "public")
    assert public == sorted([
        "/", "/benefits", "/benefits/<code>", "/language", "/healthz",
        "/readyz", "/metrics",  # operations: kept internal by the proxy; /metrics can need a bearer token
        "/auth/login", "/auth/acs", "/auth/logout", "/auth/sls", "/auth/metadata",
        # portal.tracking, portal.preferences: the status lookup with a receipt's code (rate-limited), the
        # large-text toggle, and the end of an idle session (shared computers).
        "/status", "/status", "/display", "/session/ended", "/session/alive",  # /status: the form, the lookup
        # portal.api: the token endpoint checks the client's credentials itself; the OpenAPI document and its page.
        "/api/v1/oauth/token", "/api/v1/openapi.json", "/api/v1/docs",
    ]), public


def test_staff_pages_need_a_role(client, make_account, login):
    login(client, make_account())
    assert client.get("/backoffice/").status_code == 403


def test_citizen_pages_need_login(client):
    response = client.get("/applications")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]

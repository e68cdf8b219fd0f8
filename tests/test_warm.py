"""What a process does once when it loads the portal (``portal.ops.warm``, called by ``wsgi.py``): under
gunicorn's ``preload_app`` it runs in the master, so it must not open anything a forked worker would share."""
from __future__ import annotations

from sqlalchemy import event

from portal.core.db import db
from portal.ops.warm import warm


def test_warm_compiles_every_template_and_loads_every_language_without_a_connection(app):
    opened = []
    listener = lambda *args: opened.append(args)  # noqa: E731
    event.listen(db.engine, "checkout", listener)
    try:
        counts = warm(app)
    finally:
        event.remove(db.engine, "checkout", listener)
    names = app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt", ".xml")))
    assert counts == {"templates": len(names), "languages": len(app.config["ESOCIAL"].languages)}
    assert len(names) > 50 and "base.html" in names
    cached = {key[1] for key in app.jinja_env.cache.keys()} if app.jinja_env.cache is not None else set()
    assert set(names) <= cached  # compiled once, here, not by the first request that shows them
    assert opened == []  # no connection checked out: nothing for forked workers to share


def test_the_first_page_after_warming_renders_in_every_language(app, client):
    warm(app)
    for language in ("ro", "ru", "en"):
        page = client.get("/", headers={"Accept-Language": language})
        assert page.status_code == 200 and f'lang="{language}"' in page.get_data(as_text=True)

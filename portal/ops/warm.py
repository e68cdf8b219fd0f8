"""Do once, when a process loads the portal, what its first requests would otherwise each wait for.

A process that has just started pays, on its first pages, for work done once per process: configuring the
ORM's mappers, compiling the templates to Python and loading each language's catalogue.  On a busy
server that came to about half a second of CPU on the first application page, during which the other
requests given to that worker waited behind it (wrk counted time-outs each time a worker was recycled).

``wsgi.py`` calls :func:`warm` after building the app; under gunicorn's ``preload_app``
(``config/gunicorn.conf.py``) that happens once, in the master, and every worker — a recycled one too —
starts from the warm copy.  Nothing here opens a connection or starts a thread, so nothing is shared
between the forked processes.
"""
from __future__ import annotations

import logging
import time

from flask import Flask
from flask_babel import force_locale, get_translations
from sqlalchemy.orm import configure_mappers

log = logging.getLogger(__name__)


def warm(app: Flask) -> dict[str, int]:
    """Configure the mappers, compile every template, load every language's catalogue; returns counts."""
    started = time.perf_counter()
    configure_mappers()
    templates = 0
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt", ".xml"))):
        app.jinja_env.get_template(name)
        templates += 1
    languages = app.config["ESOCIAL"].languages
    with app.test_request_context("/"):
        for language in languages:
            with force_locale(language):
                get_translations().gettext("")
    log.info("warmed up: %d templates, %d languages in %.2f s", templates, len(languages),
             time.perf_counter() - started)
    return {"templates": templates, "languages": len(languages)}

"""WSGI entry point: ``gunicorn -c config/gunicorn.conf.py wsgi:app`` (see README, Production)."""
from portal import create_app
from portal.core import logs
from portal.ops.warm import warm

logs.configure()  # JSON lines with ESOCIAL_LOG_FORMAT=json, each with its request's correlation id
app = create_app()
warm(app)  # once per process; under gunicorn's preload_app, once in the master for every worker

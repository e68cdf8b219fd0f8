"""WSGI entry point: ``gunicorn -c config/gunicorn.conf.py wsgi:app`` (see README, Production)."""
from portal import create_app
from portal.core import logs

logs.configure()  # JSON lines with ESOCIAL_LOG_FORMAT=json, each with its request's correlation id
app = create_app()

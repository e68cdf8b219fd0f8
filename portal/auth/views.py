"""MPass login routes (placeholder until the SAML service provider lands)."""
from __future__ import annotations

from flask import Blueprint, abort

from portal.core.security import public

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.get("/login")
@public
def login():
    abort(503)


@bp.post("/logout")
@public
def logout():
    abort(503)

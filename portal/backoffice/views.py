"""Back office pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from portal.core.security import staff

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")


@bp.get("/")
@staff("case_worker", "supervisor")
def queue():
    return render_template("citizen/home.html")

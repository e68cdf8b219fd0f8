"""Citizen pages."""
from __future__ import annotations

from flask import Blueprint, render_template

from portal.core.security import citizen, public

bp = Blueprint("citizen", __name__)


@bp.get("/")
@public
def home():
    return render_template("citizen/home.html")


@bp.get("/benefits")
@public
def catalogue():
    return render_template("citizen/home.html")


@bp.get("/applications")
@citizen
def my_applications():
    return render_template("citizen/home.html")


@bp.get("/notifications")
@citizen
def notifications():
    return render_template("citizen/home.html")

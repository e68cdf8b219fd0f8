"""Response plumbing for shared computers and slow connections (registered by the preferences blueprint)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, current_app, request
from flask_login import current_user

STATIC_MAX_AGE = 365 * 24 * 3600
DISPLAY_COOKIE = "esocial_display"
SIMPLE = "simple"
_hashes: dict[str, tuple[float, str]] = {}


def static_version(filename: str) -> str | None:
    """A short hash of a static file's content, recomputed when the file changes."""
    folder = current_app.static_folder
    if not folder:
        return None
    path = Path(folder) / filename
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    cached = _hashes.get(filename)
    if cached and cached[0] == mtime:
        return cached[1]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    _hashes[filename] = (mtime, digest)
    return digest


def fingerprint_static(endpoint: str, values: dict) -> None:
    """``url_for('static', filename=…)`` gets ``?v=<content hash>``: a new file is a new URL."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(values["filename"])
        if version:
            values["v"] = version


def cache_headers(response):
    if request.endpoint == "static":
        version = request.args.get("v")
        if version and version == static_version(request.view_args.get("filename", "")):
            response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
        return response
    if "Cache-Control" not in response.headers:
        # Personal pages are never kept by the browser (the back button on a shared computer shows nothing
        # of the previous person); public pages are revalidated each time.
        personal = getattr(current_user, "is_authenticated", False) or request.method == "POST"
        response.headers["Cache-Control"] = "no-store" if personal else "no-cache, private"
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(fingerprint_static)
    app.after_request(cache_headers)

"""The HTTP side of the sinks: the SMS gateway stand-in, a page for people and a JSON API for tests."""
from __future__ import annotations

import re
import threading
from pathlib import Path

from flask import Flask, abort, jsonify, render_template, request
from werkzeug.serving import BaseWSGIServer, make_server

from devstack.inbox.smtp import MODES, Inbox
from portal.notifications.sms import sms_size

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# Real gateways refuse very long concatenated messages; so does the stand-in.
MAX_SEGMENTS = 10
KINDS = ("email", "sms")


def create_app(inbox: Inbox, *, token: str | None = None) -> Flask:
    """The HTTP app over ``inbox``. With ``token``, ``/sms/send`` wants ``Authorization: Bearer <token>``."""
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config["INBOX"] = inbox

    @app.post("/sms/send")
    def sms_send():
        if token is not None and request.headers.get("Authorization") != f"Bearer {token}":
            return jsonify(error="unauthorized"), 401
        if inbox.sms_mode == "down":
            return jsonify(error="gateway unavailable (fault injected)"), 503
        if inbox.sms_mode == "refuse":
            return jsonify(error="number refused by the operator (fault injected)"), 422
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify(error="send a JSON object {\"to\": ..., \"text\": ...}"), 400
        to, text = data.get("to"), data.get("text")
        if not isinstance(to, str) or not E164.match(to):
            return jsonify(error="to must be an E.164 number, e.g. +37369123456"), 422
        if not isinstance(text, str) or not text.strip():
            return jsonify(error="text must be a non-empty string"), 422
        size = sms_size(text)
        if size.segments > MAX_SEGMENTS:
            return jsonify(error=f"text needs {size.segments} segments; at most {MAX_SEGMENTS}"), 422
        # Idempotency: the same key (header, or "reference" in the body) sends once; a repeat gets the same id.
        key = request.headers.get("Idempotency-Key") or data.get("reference") or None
        stored = inbox.add_sms(to, text, key=key, encoding=size.encoding, segments=size.segments)
        if stored.get("duplicate"):
            return jsonify(id=str(stored["id"]), status="duplicate"), 200
        return jsonify(id=str(stored["id"]), status="accepted"), 202

    @app.post("/_faults")
    def faults():
        """``{"mode": "ok"|"down"|"refuse"}`` for the SMS gateway, ``{"smtp": ...}`` for the SMTP sink."""
        data = request.get_json(silent=True) or {}
        try:
            inbox.set_fault(sms=data.get("mode"), smtp=data.get("smtp"))
        except ValueError:
            return jsonify(error=f"modes are {', '.join(MODES)}"), 400
        return jsonify(mode=inbox.sms_mode, smtp=inbox.smtp_mode)

    @app.get("/api/messages")
    def api_messages():
        kind = request.args.get("kind") or None
        if kind is not None and kind not in KINDS:
            return jsonify(error="kind is email or sms"), 400
        return jsonify(messages=inbox.messages(kind, request.args.get("to") or None),
                       duplicates_suppressed=inbox.store.duplicates)

    @app.delete("/api/messages")
    def api_clear():
        inbox.clear()
        return "", 204

    @app.get("/")
    def index():
        return render_template("inbox/index.html", emails=inbox.messages("email"), sms=inbox.messages("sms"),
                               inbox=inbox)

    @app.get("/mail/<int:message_id>")
    def mail(message_id: int):
        message = inbox.message(message_id)
        if message is None or message["kind"] != "email":
            abort(404)
        return render_template("inbox/mail.html", m=message)

    @app.get("/healthz")
    def health():
        return jsonify(status="ok", smtp=inbox.running)

    return app


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """Serve ``app`` from a daemon thread; ``server.port`` is the port (useful with 0). Stop with ``shutdown()``."""
    server = make_server(host, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"inbox-http-{server.port}",
                     daemon=True).start()
    return server

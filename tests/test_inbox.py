"""The development mail and SMS sinks (devstack.inbox)."""
import smtplib
import socket
import threading
from email.message import EmailMessage

import pytest

from devstack.inbox import Inbox, MessageStore, create_app, parse_email


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox():
    with Inbox(smtp_port=free_port(), limit=50) as box:
        yield box


@pytest.fixture
def web(inbox):
    return create_app(inbox).test_client()


def send(inbox, msg):
    with smtplib.SMTP(inbox.smtp_host, inbox.smtp_port, timeout=5) as smtp:
        smtp.send_message(msg)


def test_keeps_decoded_headers_and_utf8_bodies(inbox, web):
    msg = EmailMessage()
    msg["From"] = "eSocial Молдова <noreply@esocial.gov.md>"
    msg["To"] = "Maria Țurcanu <maria@example.md>"
    msg["Subject"] = "Заявление 2025-000123 получено — cererea înregistrată"
    msg.set_content("Bună ziua, Maria!\nCererea dvs. a fost înregistrată: ș ț ă â î.\nЗдравствуйте!")
    msg.add_alternative("<p>Bună ziua</p>", subtype="html")
    send(inbox, msg)

    [mail] = inbox.messages("email")
    assert mail["subject"] == "Заявление 2025-000123 получено — cererea înregistrată"
    assert mail["from"] == "eSocial Молдова <noreply@esocial.gov.md>"
    assert mail["recipients"] == ["maria@example.md"]
    assert "ș ț ă â î" in mail["text"] and "Здравствуйте!" in mail["text"]
    assert mail["html"].strip() == "<p>Bună ziua</p>"
    assert mail["date"] is None  # no Date header was set: none is invented

    data = web.get("/api/messages", query_string={"to": "MARIA@example.md", "kind": "email"}).get_json()
    assert [m["subject"] for m in data["messages"]] == [mail["subject"]]
    assert web.get("/api/messages", query_string={"to": "nobody@example.md"}).get_json()["messages"] == []


def test_parses_raw_rfc2047_and_base64():
    raw = (b"From: =?utf-8?b?0JzQsNGA0LjRjw==?= <maria@example.md>\r\n"
           b"To: ion@example.md\r\n"
           b"Subject: =?utf-8?q?Decizie_privind_cererea_=C8=99i_=C8=9Bara?=\r\n"
           b"Date: Sat, 01 Mar 2025 10:00:00 +0000\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n"
           + __import__("base64").encodebytes("Решение принято. Decizia e luată.".encode()) + b"\r\n")
    parsed = parse_email(raw, envelope_to=["ion@example.md", "bcc@example.md"])
    assert parsed["from"] == "Мария <maria@example.md>"
    assert parsed["subject"] == "Decizie privind cererea și țara"
    assert parsed["text"].strip() == "Решение принято. Decizia e luată."
    assert parsed["date"] == "2025-03-01T10:00:00+00:00"
    assert parsed["recipients"] == ["ion@example.md", "bcc@example.md"]


def test_sms_gateway_accepts_valid_messages(inbox, web):
    response = web.post("/sms/send", json={"to": "+37369123456", "text": "eSocial: Cererea a fost înregistrată."})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "accepted" and body["id"]
    [sms] = web.get("/api/messages", query_string={"kind": "sms"}).get_json()["messages"]
    assert (sms["to"], sms["encoding"], sms["segments"]) == ("+37369123456", "ucs2", 1)


@pytest.mark.parametrize("payload, status", [
    ({"to": "069123456", "text": "hi"}, 422),  # not E.164
    ({"to": "+0123456789", "text": "hi"}, 422),
    ({"to": "+37369123456", "text": "   "}, 422),
    ({"to": "+37369123456"}, 422),
    ({"to": "+37369123456", "text": "x" * 2000}, 422),  # more than 10 segments
    (["not", "an", "object"], 400),
])
def test_sms_gateway_refuses_bad_requests(inbox, web, payload, status):
    assert web.post("/sms/send", json=payload).status_code == status
    assert inbox.messages("sms") == []


def test_sms_gateway_can_be_told_to_fail(inbox, web):
    assert web.post("/_faults", json={"mode": "down"}).get_json()["mode"] == "down"
    assert web.post("/sms/send", json={"to": "+37369123456", "text": "hi"}).status_code == 503
    assert "Fault injected" in web.get("/").get_data(as_text=True)
    web.post("/_faults", json={"mode": "ok"})
    assert web.post("/sms/send", json={"to": "+37369123456", "text": "hi"}).status_code == 202
    assert web.post("/_faults", json={"mode": "sideways"}).status_code == 400


def test_sms_gateway_token(inbox):
    web = create_app(inbox, token="s3cret").test_client()
    message = {"to": "+37369123456", "text": "hi"}
    assert web.post("/sms/send", json=message).status_code == 401
    assert web.post("/sms/send", json=message, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert web.post("/sms/send", json=message, headers={"Authorization": "Bearer s3cret"}).status_code == 202


def test_smtp_fault_refuses_recipients(inbox):
    inbox.set_fault(smtp="down")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.md", "b@example.md", "x"
    msg.set_content("x")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(inbox, msg)
    assert refused.value.recipients["b@example.md"][0] == 451
    assert inbox.messages() == []


def test_page_lists_newest_first_and_shows_each_mail(inbox, web):
    for i in (1, 2):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "noreply@esocial.gov.md", "ion@example.md", f"Message {i}"
        msg.set_content(f"Body {i} <script>alert(1)</script>")
        msg.add_alternative(f"<p>Body {i}</p><script>alert(1)</script>", subtype="html")
        send(inbox, msg)
    web.post("/sms/send", json={"to": "+37369123456", "text": "Salut"})

    html = web.get("/").get_data(as_text=True)
    assert "<h1>" in html and '<h2 id="emails">' in html and '<h2 id="sms">' in html
    assert html.index("Message 2") < html.index("Message 1")
    assert "+37369123456" in html and "Salut" in html

    newest = inbox.messages("email")[0]
    page = web.get(f"/mail/{newest['id']}").get_data(as_text=True)
    assert "Message 2" in page and "Body 2 &lt;script&gt;" in page and "<script>alert" not in page
    assert '<iframe sandbox=""' in page
    assert web.get("/mail/99999").status_code == 404
    sms_id = inbox.messages("sms")[0]["id"]
    assert web.get(f"/mail/{sms_id}").status_code == 404
    assert web.get("/api/messages", query_string={"kind": "fax"}).status_code == 400


def test_clear(inbox, web):
    inbox.add_sms("+37369123456", "hi")
    assert web.delete("/api/messages").status_code == 204
    assert inbox.messages() == []


def test_store_is_bounded_and_keeps_the_newest():
    store = MessageStore(limit=3)
    for i in range(5):
        store.add("sms", to=f"+3736900000{i}", recipients=[f"+3736900000{i}"], text=str(i))
    assert len(store) == 3
    assert [m["text"] for m in store.list()] == ["4", "3", "2"]
    assert store.get(1) is None and store.get(5)["text"] == "4"


def test_store_is_thread_safe():
    store = MessageStore(limit=10_000)

    def add_many():
        for i in range(500):
            store.add("sms", to="+37369000000", recipients=["+37369000000"], text=str(i))

    threads = [threading.Thread(target=add_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [m["id"] for m in store.list()]
    assert len(ids) == 4000 == len(set(ids))

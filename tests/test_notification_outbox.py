"""notify() writes the outbox in the caller's transaction; render() speaks the recipient's language."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from portal.applications.models import Application
from portal.core import clock
from portal.core.db import db, session_scope
from portal.notifications.models import Notification
from portal.notifications.services import TEMPLATES, notify, render
from portal.notifications.sms import MAX_SEGMENTS, sms_size

SUBMITTED = {"number": "2025-000123", "benefits": ["social_aid", "birth_allowance"]}
EXAMPLES = {
    "application_submitted": SUBMITTED,
    "info_requested": {"number": "2025-000123", "benefit": "social_aid",
                       "question": "How much do you receive from abroad? <b>&</b>"},
    "decision_made": {"number": "2025-000123", "benefit": "cold_season_aid", "decision": "rejected",
                      "reason": "The household income is above the threshold."},
    "status_changed": {"number": "2025-000123", "benefit": "birth_allowance", "status": "in_review"},
    # Reminders (portal.notifications.reminders).
    "info_reminder": {"number": "2025-000123", "benefit": "social_aid", "asked_on": "2025-02-20",
                      "question": "Send the income certificate of your spouse."},
    "deadline_near": {"number": "2025-000123", "benefit": "social_aid", "due_on": "2025-03-05",
                      "path": "/backoffice/"},
    "deadline_passed": {"number": "2025-000123", "benefit": "energy_compensation", "due_on": "2025-02-27",
                        "path": "/backoffice/"},
    "renewal_due": {"number": "2025-000123", "benefit": "cold_season_aid", "decided_on": "2024-03-20",
                    "renew_by": "2025-03-20", "path": "/apply?benefit=cold_season_aid"},
    # The back office's notices (portal.backoffice, portal.decisions).
    "case_transferred": {"number": "2025-000123", "benefit": "social_aid", "agency": "ATAS-NORD-EST",
                         "reason": "The family moved to Soroca."},
    "case_overdue": {"number": "2025-000123", "benefits": ["social_aid"], "agency": "ATAS-CENTRU",
                     "due_on": "2025-02-27", "case_ref": "CaSeReF"},
    "appeal_assigned": {"number": "2025-000123", "benefit": "social_aid", "case_ref": "CaSeReF"},
}


@pytest.fixture
def fixed_clock():
    clock.set_clock(lambda: dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone.utc))
    yield
    clock.set_clock(None)


def _application(session, account, number="2025-000123"):
    application = Application(applicant_id=account.id, created_by_id=account.id, number=number,
                              status="submitted", benefits=["social_aid"])
    session.add(application)
    session.flush()
    return application


def _rows(account_id):
    with session_scope() as s:
        return {n.channel: n for n in s.scalars(select(Notification).where(Notification.account_id == account_id))}


def test_one_row_per_channel_with_language_and_snapshotted_addresses(session, make_account, fixed_clock):
    account = make_account(email="maria@example.md", phone="069 123 456", language="ru")
    application = _application(session, account)
    rows = notify(session, account, "application_submitted", SUBMITTED, application=application)
    session.commit()

    assert sorted(r.channel for r in rows) == ["email", "portal", "sms"]
    stored = _rows(account.id)
    assert {n.language for n in stored.values()} == {"ru"}
    assert stored["portal"].status == "sent" and stored["portal"].sent_at is not None
    assert stored["portal"].address is None and stored["portal"].read_at is None
    assert stored["email"].status == "pending" and stored["email"].address == "maria@example.md"
    assert stored["sms"].status == "pending" and stored["sms"].address == "+37369123456"
    for n in stored.values():
        assert n.application_id == application.id
        assert n.params["application_ref"] == application.ref
        assert n.params["benefits"] == ["social_aid", "birth_allowance"]  # codes, titles at render time
        assert n.template == "application_submitted"


@pytest.mark.parametrize("attrs, channels", [
    ({"email": "a@example.md", "phone": "+37369000001"}, ["email", "portal", "sms"]),
    ({"email": None, "phone": "+37369000001"}, ["portal", "sms"]),
    ({"email": "a@example.md", "phone": None}, ["email", "portal"]),
    ({"email": "a@example.md", "phone": "+37369000001", "notify_email": False}, ["portal", "sms"]),
    ({"email": "a@example.md", "phone": "+37369000001", "notify_sms": False}, ["email", "portal"]),
    ({"email": None, "phone": None}, ["portal"]),
    ({"email": "a@example.md", "phone": "not a number"}, ["email", "portal"]),
])
def test_channels_follow_contact_data_and_preferences(session, make_account, attrs, channels):
    account = make_account(**attrs)
    rows = notify(session, account, "status_changed", EXAMPLES["status_changed"])
    assert sorted(r.channel for r in rows) == channels


def test_rows_are_rolled_back_with_the_callers_transaction(app, make_account):
    account = make_account(phone="+37369000001")
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            application = _application(s, account)
            application.status = "in_review"
            notify(s, account, "status_changed", EXAMPLES["status_changed"], application=application)
            raise RuntimeError("the status change failed after notify")
    with session_scope() as s:
        assert s.scalar(select(func.count(Notification.id))) == 0
        assert s.scalar(select(func.count(Application.id))) == 0


def test_notify_never_commits(app, make_account):
    account = make_account()
    with app.app_context():
        notify(db.session, account, "status_changed", EXAMPLES["status_changed"])
        with session_scope() as other:  # another connection sees nothing until the caller commits
            assert other.scalar(select(func.count(Notification.id))) == 0
        db.session.rollback()
    with session_scope() as s:
        assert s.scalar(select(func.count(Notification.id))) == 0


def test_unknown_language_falls_back_to_romanian(session, make_account):
    account = make_account(language="de")
    rows = notify(session, account, "status_changed", EXAMPLES["status_changed"])
    assert {r.language for r in rows} == {"ro"}


@pytest.mark.parametrize("template, params", [
    ("no_such_template", {}),
    ("info_requested", {"number": "1", "benefit": "social_aid"}),  # no question
    ("decision_made", {"number": "1", "benefit": "social_aid", "decision": "maybe"}),
    ("status_changed", {"number": "1", "benefit": "social_aid", "status": object()}),  # not JSON
])
def test_bad_calls_fail_at_write_time(session, make_account, template, params):
    account = make_account()
    with pytest.raises((ValueError, TypeError)):
        notify(session, account, template, params)


# --- rendering -------------------------------------------------------------------------------------------------

# How each catalogue greets: the message really is in the recipient's language.
GREETING = {"en": "Hello %s,", "ro": "Bună ziua, %s,", "ru": "Здравствуйте, %s!"}


def _notification(template, language, params=None, ref="AbCdEfGhIjKlMnOp"):
    params = dict(params or EXAMPLES[template])
    if ref:
        params["application_ref"] = ref
    return Notification(template=template, params=params, language=language, channel="email",
                        created_at=dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone.utc))


@pytest.mark.parametrize("language", ["ro", "ru", "en"])
@pytest.mark.parametrize("template", sorted(set(TEMPLATES) - {"benefit_offer"}))  # no application: test_registry_events
def test_every_template_renders_in_every_language(app, settings, template, language):
    with app.app_context():
        r = render(_notification(template, language), name="Ion")
    link = f"{settings.base_url}/applications/AbCdEfGhIjKlMnOp"
    assert r.subject and "\n" not in r.subject
    assert "2025-000123" in r.subject
    assert r.link == link and link in r.text and f'href="{link}"' in r.html
    assert r.text.startswith(GREETING[language] % "Ion")
    assert "None" not in r.text and "None" not in r.sms
    assert r.sms.startswith("eSocial: ") and r.sms.endswith(link)
    assert sms_size(r.sms).segments <= MAX_SEGMENTS
    assert f'lang="{language}"' in r.html


def test_titles_and_dates_follow_the_recipient_language(app):
    # The ro/ru message catalogues are not filled yet, so gettext still returns English; what already
    # varies with the forced locale is the benefit title (from the catalogue) and the CLDR date format.
    expected = {"ro": ("Ajutor social", "1 martie 2025"),
                "ru": ("Социальная помощь", "1 марта 2025"),
                "en": ("Social aid", "March 1, 2025")}
    with app.app_context():
        for language, (title, date) in expected.items():
            r = render(_notification("application_submitted", language))
            assert f"- {title}" in r.text, language
            assert date in r.text, language
            # Per-benefit notices name the benefit in the subject: which of several claims this is about.
            assert title in render(_notification("status_changed", language, {
                "number": "2025-000123", "benefit": "social_aid", "status": "in_review"})).subject, language


def test_dates_are_in_the_recipients_time_zone(app):
    n = _notification("status_changed", "en")
    n.created_at = dt.datetime(2025, 3, 1, 23, 30, tzinfo=dt.timezone.utc)
    with app.app_context():
        assert "March 2, 2025" in render(n, timezone="Europe/Chisinau").text  # 01:30 in Chișinău
        assert "March 1, 2025" in render(n, timezone="UTC").text


def test_user_text_is_escaped_in_html_and_kept_in_plain_text(app):
    with app.app_context():
        r = render(_notification("info_requested", "en"))
    assert "<b>&</b>" in r.text
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in r.html and "<b>&</b>" not in r.html


def test_status_and_decision_codes_become_words(app):
    with app.app_context():
        assert "Under review" in render(_notification("status_changed", "en")).subject
        decision = render(_notification("decision_made", "en"))
    assert "Rejected" in decision.text and "The household income is above the threshold." in decision.text


def test_without_an_application_there_is_no_link(app):
    with app.app_context():
        r = render(_notification("status_changed", "en", ref=None))
    assert r.link is None and "/applications/" not in r.text
    assert r.sms.startswith("eSocial: ")

"""Every e-mail has a plain-text part (first) and an HTML alternative; its Message-ID is the notification's key."""
import datetime as dt

import pytest

from portal.notifications.channels import EmailChannel
from portal.notifications.models import Notification
from portal.notifications.services import TEMPLATES, render
from portal.notifications.sms import MAX_SEGMENTS, sms_size
from test_notification_outbox import EXAMPLES


@pytest.mark.parametrize("language", ["ro", "ru", "en"])
@pytest.mark.parametrize("template", sorted(set(TEMPLATES) & set(EXAMPLES)))
def test_every_message_is_multipart_with_plain_text_first(app, settings, template, language):
    n = Notification(template=template, params=dict(EXAMPLES[template], application_ref="AbCdEfGhIjKlMnOp"),
                     language=language, channel="email",
                     created_at=dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.timezone.utc))
    with app.app_context():
        rendered = render(n, name="Ion")
    msg = EmailChannel(settings).build("ion@example.md", rendered, "esocial-n1-abc")
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_payload()
    assert plain.get_content_type() == "text/plain" and plain.get_content_charset() == "utf-8"
    assert html.get_content_type() == "text/html" and html.get_content_charset() == "utf-8"
    assert plain.get_content().strip() == rendered.text.strip()
    assert msg["Message-ID"] == "<esocial-n1-abc@esocial.gov.md>"
    assert msg["Auto-Submitted"] == "auto-generated"
    # The SMS of the same notice fits two segments, in the alphabet its language needs.
    size = sms_size(rendered.sms)
    assert size.segments <= MAX_SEGMENTS
    if language == "ru":
        assert size.encoding == "ucs2"

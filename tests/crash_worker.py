"""A notification worker that kills itself with SIGKILL at a chosen point (tests/test_notification_crash.py).

``python tests/crash_worker.py STAGE CHANNEL SETTINGS_JSON`` delivers the due
rows of ``CHANNEL`` with the real delivery code and real channels, and dies:

* ``after_claim``: the row is claimed and its attempt opened, nothing rendered or sent;
* ``before_send``: rendered, the channel not called yet;
* ``after_send``: the relay or gateway accepted the message, the outcome not written.

Nothing here stands in for a part: the process really dies where a power cut
or an OOM kill could stop it.
"""
import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.config import load_settings  # noqa: E402
from portal.notifications import delivery  # noqa: E402
from portal.notifications.channels import channels_for  # noqa: E402


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    stage, name, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    settings = load_settings("test", overrides=overrides)
    channel = channels_for(settings)[name]
    if stage == "after_claim":
        real_claim = delivery.claim

        def claim(notification_id):
            lease = real_claim(notification_id)
            if lease is not None:
                die()
            return lease

        delivery.claim = claim
    else:
        real_send = channel.send

        def send(address, message, *, key=None):
            if stage == "before_send":
                die()
            real_send(address, message, key=key)
            die()

        channel.send = send
    delivery.deliver_pending(settings, channels={name: channel})
    sys.exit(3)  # the worker was meant to die before this


if __name__ == "__main__":
    main()

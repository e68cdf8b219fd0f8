"""``python -m devstack.inbox [--smtp-port 1025] [--http-port 5003]``: both sinks in one process."""
from __future__ import annotations

import argparse
import logging
import os

from devstack.inbox import Inbox, create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="eSocial development mail and SMS sinks")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=5003)
    parser.add_argument("--token", default=os.environ.get("ESOCIAL_SMS_GATEWAY_TOKEN") or None,
                        help="require this bearer token on /sms/send")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with Inbox(args.host, args.smtp_port) as inbox:
        print(f"SMTP sink on {args.host}:{args.smtp_port}; messages at http://{args.host}:{args.http_port}/")
        create_app(inbox, token=args.token).run(args.host, args.http_port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()

"""``python -m devstack``: run the portal with everything it needs on one machine."""
from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from devstack.stack import Ports, Stack


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--instance", default="instance", help="folder for the database, keys and uploads")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--host-name", default="localhost", help="name the browser uses to reach the servers")
    parser.add_argument("--idp-host-name", default=None,
                        help="name the browser uses to reach the development MPass (default: --host-name); "
                             "another name makes the IdP another site, as MPass is")
    parser.add_argument("--database-url", default=None)
    defaults = Ports()
    for name in ("portal", "idp", "registry", "inbox", "smtp"):
        parser.add_argument(f"--{name}-port", type=int, default=getattr(defaults, name))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("werkzeug", "alembic", "mail.log", "xmlschema", "saml2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ports = Ports(args.portal_port, args.idp_port, args.registry_port, args.inbox_port, args.smtp_port)
    stack = Stack(Path(args.instance).resolve(), ports, host=args.host, host_name=args.host_name,
                  database_url=args.database_url, idp_host_name=args.idp_host_name).start()
    print(stack.banner(), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()

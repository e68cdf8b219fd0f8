"""``python -m portal.audit verify [--anchor SEQ:HASH]`` / ``python -m portal.audit head``.

Reads the database named by the settings (``ESOCIAL_ENV``, ``ESOCIAL_DATABASE_URL``); exits 1 when the chain
is broken.
"""
from __future__ import annotations

import sys

import click

from portal.audit import cli


@click.group()
def main() -> None:
    """The audit trail's hash chain."""


@main.command("verify")
@click.option("--anchor", "anchors", multiple=True, help="SEQ:HASH written down earlier (from `head`)")
def verify(anchors: tuple[str, ...]) -> None:
    with _session() as session:
        sys.exit(cli.run_verify(session, anchors))


@main.command("head")
def head() -> None:
    with _session() as session:
        sys.exit(cli.run_head(session))


def _session():
    from portal.config import load_settings
    from portal.core.db import db

    db.configure(load_settings().database_url)
    return db.new_session()


if __name__ == "__main__":
    main()

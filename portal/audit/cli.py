"""``flask --app wsgi audit verify|head`` (and ``python -m portal.audit verify|head``)."""
from __future__ import annotations

import sys

import click
from flask import Blueprint

from portal.audit import chain

# No routes: this blueprint only carries the ``audit`` command group.
bp = Blueprint("audit", __name__, cli_group="audit")


def _anchor(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise click.BadParameter("write an anchor as SEQ:HASH, as printed by `audit head`")
    return int(seq), digest.lower()


def run_verify(session, anchors: tuple[str, ...] = ()) -> int:
    report = chain.verify(session, anchors=[_anchor(a) for a in anchors])
    if report.ok:
        click.echo(f"audit chain intact: {report.checked} records, head {report.head_seq}:{report.head_hash}")
        return 0
    click.echo(f"audit chain BROKEN ({len(report.problems)} problem(s) shown):", err=True)
    for line in report.problems:
        click.echo("  - " + line, err=True)
    return 1


def run_head(session) -> int:
    seq, digest = chain.head(session)
    click.echo(f"{seq}:{digest}")
    return 0


@bp.cli.command("verify")
@click.option("--anchor", "anchors", multiple=True, help="SEQ:HASH written down earlier (from `audit head`)")
def verify_command(anchors: tuple[str, ...]) -> None:
    """Check every record of the audit chain: changed, deleted or inserted records are reported."""
    from portal.core.db import db

    with db.new_session() as session:
        sys.exit(run_verify(session, anchors))


@bp.cli.command("head")
def head_command() -> None:
    """Print the newest link (SEQ:HASH), to keep somewhere outside the database."""
    from portal.core.db import db

    with db.new_session() as session:
        sys.exit(run_head(session))

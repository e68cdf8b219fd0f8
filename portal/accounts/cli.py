"""``flask --app wsgi roles grant|revoke|list``: staff roles, for the operators who give them (each change is
an audit event, ``portal.accounts.roles``)."""
from __future__ import annotations

import click
from flask import Blueprint
from sqlalchemy import select

from portal.accounts import roles
from portal.accounts.models import RoleAssignment
from portal.core.db import db

# No routes: this blueprint only carries the ``roles`` command group.
bp = Blueprint("roles", __name__, cli_group="roles")


@bp.cli.command("grant")
@click.argument("idnp")
@click.argument("role")
@click.argument("scope", required=False)
@click.option("--by", "by", default=None, help="IDNP of the person who decided the grant (for the audit trail)")
def grant_command(idnp: str, role: str, scope: str | None, by: str | None):
    """Give IDNP the ROLE for SCOPE (an agency, a CUPS centre or a registry; none for analyst and sysadmin)."""
    try:
        with db.session.begin():
            row = roles.grant(db.session, by, idnp=idnp, role=role, scope=scope)
    except roles.RoleError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"granted {row.role} {row.agency_code or '-'} to {row.idnp} (assignment {row.id})")


@bp.cli.command("revoke")
@click.argument("idnp")
@click.argument("role")
@click.argument("scope", required=False)
@click.option("--by", "by", default=None, help="IDNP of the person who decided the revocation")
def revoke_command(idnp: str, role: str, scope: str | None, by: str | None):
    """Take ROLE for SCOPE from IDNP; it stops working on their next request."""
    with db.session.begin():
        row = roles._held(db.session, idnp, role, scope)  # noqa: SLF001 - the same lookup as grant
        if row is None:
            raise click.ClickException(f"{idnp} does not hold {role} {scope or ''}".strip())
        roles.revoke(db.session, by, row)
    click.echo(f"revoked {role} {scope or '-'} from {idnp}")


@bp.cli.command("list")
@click.option("--idnp", default=None)
def list_command(idnp: str | None):
    query = select(RoleAssignment).where(RoleAssignment.revoked_at.is_(None)).order_by(RoleAssignment.idnp,
                                                                                        RoleAssignment.role)
    if idnp:
        query = query.where(RoleAssignment.idnp == idnp)
    for row in db.session.scalars(query):
        click.echo(f"{row.idnp}\t{row.role}\t{row.agency_code or '-'}")

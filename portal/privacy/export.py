"""Everything the portal holds about one person, as data (JSON) and as a readable page.

The rows are found by rules over the schema, so a table added by any feature is covered without code here:

* a column naming the person as the subject (``SUBJECT_COLUMNS``): their account id, or their IDNP;
* then, repeatedly, every row whose foreign key points at a row already found (an application's claims,
  evidence, documents, decisions, cases...), never through ``account`` itself (a worker's cases are not their
  personal data as a citizen).

``COVERAGE`` classifies every table; a new table must be added there (a test enforces it) with either
``"subject"`` or the reason it holds nothing about the person as a data subject.  Secrets (session tokens,
file locations) and binary contents are never exported; documents are downloaded from their application page.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
from dataclasses import dataclass, field

from sqlalchemy import LargeBinary, Table, select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.core import clock
from portal.core.idnp import mask
from portal.models import Base

# Columns that say "this row is about this person" (an account id, or an IDNP).
SUBJECT_COLUMNS = {
    "account": {"id"},
    "*": {"applicant_id", "account_id", "grantor_id", "subject_idnp", "applicant_idnp", "reference_idnp",
          "ward_idnp", "visitor_idnp"},
    "role_assignment": {"idnp"},
    "registry_subject": {"idnp"},
    "application_subject": {"idnp"},
}
# Never exported: secrets and internal locations.
HIDDEN = {
    "login_session": {"id"},
    "document": {"storage_key"},
    "*": {"password", "token", "secret"},
}
# Other people's IDNPs in rows about the person (the official who acted) are shown masked.
ACTOR_IDNP_COLUMNS = {"actor_idnp", "handled_by_idnp", "recorded_by_idnp", "revoked_by_idnp", "granted_by",
                      "created_by_idnp"}
NOT_FOLLOWED = {"account"}  # rows pointing at the account are only taken through SUBJECT_COLUMNS

SUBJECT = "subject"
COVERAGE: dict[str, str] = {
    "account": SUBJECT, "role_assignment": SUBJECT, "login_session": SUBJECT, "application": SUBJECT,
    "claim": SUBJECT, "evidence": SUBJECT, "document": SUBJECT, "status_event": SUBJECT, "notification": SUBJECT,
    "audit_event": SUBJECT, "consent": SUBJECT,
    "saml_request": "login requests in flight: no person until answered, kept minutes",
    "saml_seen_assertion": "ids of used SAML messages (replay protection), no personal data",
    "audit_chain_head": "the newest link of the audit chain",
    "rate_limit_bucket": "counters per address, kept a day",
    # Other features' tables (reached by the rules above: a subject column or a key into the person's rows).
    **dict.fromkeys(("agency_case", "appeal", "application_subject", "assisted_session", "benefit_offer",
                     "case_file", "case_note", "case_transfer", "claim_assessment", "claim_key", "data_access_log",
                     "decision", "guardianship", "home_visit", "mandate", "needs_assessment",
                     "notification_reminder", "on_behalf", "pending_fetch", "plan_item", "rectification_request",
                     "referral", "registry_notice", "risk_flag", "tracking_code", "notification_attempt"), SUBJECT),
    "api_client": "agency systems using the API, not people",
    "routing_rule_version": "routing rules, written by administrators",
    "webhook_event": "deliveries to agency systems; the application it names is exported from its own table",
}


def covered(table: str) -> bool:
    return table in COVERAGE


def _subject_columns(table: Table) -> set[str]:
    wanted = SUBJECT_COLUMNS.get(table.name, set()) | SUBJECT_COLUMNS["*"]
    return {c.name for c in table.columns if c.name in wanted}


def _hidden(table: Table) -> set[str]:
    names = HIDDEN.get(table.name, set()) | HIDDEN["*"]
    return {c.name for c in table.columns if c.name in names or isinstance(c.type, LargeBinary)}


def _value(value, column: str, person_idnp: str):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if column in ACTOR_IDNP_COLUMNS and isinstance(value, str) and value and value != person_idnp:
        return mask(value)
    return value


@dataclass
class PersonalData:
    idnp: str
    generated_at: str
    tables: dict[str, list[dict]] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"format": "esocial-personal-data/1", "idnp": self.idnp, "generated_at": self.generated_at,
                "tables": self.tables}


def collect(session: Session, account: Account, *, max_rounds: int = 6) -> PersonalData:
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    found: dict[str, dict[object, dict]] = {}

    def add(table: Table, rows) -> bool:
        pk = [c.name for c in table.primary_key.columns]
        bucket = found.setdefault(table.name, {})
        new = False
        for row in rows:
            key = tuple(row[c] for c in pk)
            if key not in bucket:
                bucket[key] = dict(row)
                new = True
        return new

    for table in tables.values():
        for column in _subject_columns(table):
            target = table.c[column]
            is_account_fk = any(fk.column.table.name == "account" for fk in target.foreign_keys) \
                or (table.name == "account" and column == "id")
            value = account.id if is_account_fk else (account.idnp if "idnp" in column else None)
            if value is None:
                continue
            add(table, session.execute(select(table).where(target == value)).mappings())

    for _ in range(max_rounds):
        grew = False
        for table in tables.values():
            for fk in table.foreign_keys:
                parent = fk.column.table
                if parent.name in NOT_FOLLOWED or parent.name not in found or parent.name == table.name:
                    continue
                ids = [row[fk.column.name] for row in found[parent.name].values()]
                for start in range(0, len(ids), 500):
                    chunk = ids[start:start + 500]
                    grew |= add(table, session.execute(select(table).where(fk.parent.in_(chunk))).mappings())
        if not grew:
            break

    data = PersonalData(idnp=account.idnp, generated_at=clock.now().isoformat())
    for name, rows in sorted(found.items()):
        hidden = _hidden(tables[name])
        data.tables[name] = [{k: _value(v, k, account.idnp) for k, v in row.items() if k not in hidden}
                             for row in rows.values()]
    return data

"""The life of a benefit claim, as one table of allowed transitions.

Who may make a transition is part of the table: ``staff`` (a case worker of
the handling agency) or ``applicant`` (the citizen, or whoever acts for them).
Anything not in the table is refused with :class:`InvalidTransition`.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.core.errors import InvalidTransition

SUBMITTED = "submitted"
IN_REVIEW = "in_review"
INFO_REQUESTED = "info_requested"
INFO_PROVIDED = "info_provided"
APPROVED = "approved"
REJECTED = "rejected"
APPEALED = "appealed"  # the citizen contests the decision; another worker reviews it
# Sent, but which agency handles it waits for the address from the population register (portal.registries.pending).
AWAITING_DATA = "awaiting_data"

STAFF = "staff"
APPLICANT = "applicant"
SYSTEM = "system"  # eSocial itself (a sweep), not a person

TRANSITIONS: dict[tuple[str, str], str] = {
    (SUBMITTED, IN_REVIEW): STAFF,
    (SUBMITTED, INFO_REQUESTED): STAFF,
    (SUBMITTED, APPROVED): STAFF,
    (SUBMITTED, REJECTED): STAFF,
    (IN_REVIEW, INFO_REQUESTED): STAFF,
    (IN_REVIEW, APPROVED): STAFF,
    (IN_REVIEW, REJECTED): STAFF,
    (INFO_REQUESTED, INFO_PROVIDED): APPLICANT,
    (INFO_PROVIDED, IN_REVIEW): STAFF,
    (INFO_PROVIDED, INFO_REQUESTED): STAFF,
    (INFO_PROVIDED, APPROVED): STAFF,
    (INFO_PROVIDED, REJECTED): STAFF,
    (APPROVED, APPEALED): APPLICANT,
    (REJECTED, APPEALED): APPLICANT,
    (APPEALED, APPROVED): STAFF,
    (APPEALED, REJECTED): STAFF,
    (AWAITING_DATA, SUBMITTED): SYSTEM,
}

FINAL = frozenset({APPROVED, REJECTED})
# Statuses in which the agency has work to do (its queue).
OPEN_FOR_AGENCY = frozenset({SUBMITTED, IN_REVIEW, INFO_PROVIDED})

LABELS = {
    "draft": _l("Draft"),
    SUBMITTED: _l("Submitted"),
    IN_REVIEW: _l("Under review"),
    INFO_REQUESTED: _l("More information needed"),
    INFO_PROVIDED: _l("Information sent"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Rejected"),
    APPEALED: _l("Appeal under review"),
    "transferred": _l("Sent to another agency"),
    AWAITING_DATA: _l("Waiting for data from the registries"),
    # History entries of the registry layer (portal.registries), not statuses.
    "data_received": _l("Data received from a registry"),
    "data_failed": _l("A registry's answer could not be used"),
    "registry_event": _l("A registry reported a change"),
    "data_reported": _l("Data reported as wrong to its registry"),
}


def check(current: str, target: str, party: str) -> None:
    """Raise :class:`InvalidTransition` unless ``party`` may move a claim from ``current`` to ``target``."""
    allowed = TRANSITIONS.get((current, target))
    if allowed is None:
        raise InvalidTransition(_l("This application cannot go from “%(current)s” to “%(target)s”."),
                                current=LABELS.get(current, current), target=LABELS.get(target, target))
    if allowed != party:
        raise InvalidTransition(_l("You cannot make this change to the application."))


def label(status: str) -> str:
    return str(LABELS.get(status, status))

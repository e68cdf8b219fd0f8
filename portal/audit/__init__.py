"""Audit trail: an append-only, hash-chained log (models, services.record, chain.verify)."""
from portal.audit import chain  # noqa: F401  - registers the commit hook that chains every new event

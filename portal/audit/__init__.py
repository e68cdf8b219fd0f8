"""Audit trail: typed events written in the same transaction as the change they record."""

"""Shared foundations: database, i18n, permissions, clock, IDNP, base forms."""

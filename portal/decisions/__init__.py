"""Decisions on claims, their letters (PDF) and appeals."""

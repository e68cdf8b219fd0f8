"""Figures for policy: the ministry's dashboard (counts and durations, never a person)."""

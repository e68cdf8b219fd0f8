"""Case management for vulnerable households: one case file per household."""

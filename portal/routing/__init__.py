"""Which agency handles a benefit for an applicant: pure rules over reference data."""

"""The assisted channel: CUPS specialists serve visitors at a centre (a mayoralty, a library, a consular
mission abroad).

A specialist starts an *assisted session* for one visitor, identified either by the visitor logging in with
MPass on the centre's computer (the login identifies them; it opens no session of theirs) or by the
identity document the specialist records, the IDNP checked against the population register, and the
visitor's signed consent.  Everything the specialist then does for the visitor is scoped to that session:
it belongs to the specialist's own login session, ends explicitly (or after inactivity, or at logout), and
once ended nothing of the visitor can be opened from the centre's computer any more.
"""

"""Acting on behalf of another person: a parent for their minor child, a legal guardian for the person in
their care, a representative under a mandate (as MPower powers of representation), and a CUPS specialist
for a visitor (:mod:`portal.assisted`).

* :mod:`.models`: guardianships (data, from the guardianship authority), mandates, and the record of who
  filled in and sent each application for whom (:class:`OnBehalf`).
* :mod:`.rules`: pure rules (minor, mandate in force and covering the benefits), no Flask, no database.
* :mod:`.authority`: whether an actor may act for a person now, and why; checked when acting starts, on
  every request that shows the person's data, and again at every submission (never once per login).
* :mod:`.context`: whom the current request acts for, shown on every page ("You are acting for …").
* :mod:`.services`, :mod:`.views`: start and stop acting, give, revoke and renounce mandates.
"""

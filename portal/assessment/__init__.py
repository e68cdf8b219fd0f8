"""The stateful side of eligibility: results kept with each claim, cross-check flags, review requests.

:mod:`portal.eligibility` is pure (rules, parameters, explanations as data); this package stores
what it computed at submission, re-runs it when registry data changes, keeps the flags a case
worker clears, and renders results in the reader's language (:mod:`portal.assessment.explain`).
"""

"""Segmentation (SPEC C3): one package, a pure rule language and three apps — each does one job.

- ``rules``: pure, no database: a rule tree over fields → a Django ``Q``, and → a Python predicate
  (proven equal by property-based tests). Higher apps register their fields (opportunities).
- ``axes``: parallel axes, their segments (by hand or by rule), materialised membership kept
  current incrementally, full rebuilds with progress.
- ``profiles``: ideal customer profiles (weighted criteria → an explained 0–100 fit score per
  organisation) and personas (who to address among contacts).
- ``targets``: saved searches combining segments across axes and field conditions, counted live,
  listed, exported, resolved to querysets for campaigns, nurture, routing and reports.

Segment performance and the cross-tab explorer need opportunities, which sit higher
(ARCHITECTURE.md layers): they live in ``cible.insights.performance``.
"""

"""Data quality (SPEC C2): one package, four apps — each does one job.

- ``imports``: the import framework (files in, normalised, matched, written, resumable).
- ``duplicates``: detection, review, merge and undo of duplicate organisations and contacts.
- ``freshness``: staleness rules, verification tasks and the data-quality dashboard.
- ``privacy``: consent per channel and purpose, subject-access exports, erasure, retention.
"""

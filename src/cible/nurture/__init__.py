"""Nurture (SPEC C7, seed 004 §5): the incubator, where Marketing keeps leads warm until ready.

- ``mailing``: email templates that speak to the person, real sending over SMTP with idempotency
  keys, suppression of opted-out and bounced people, send windows and rate limits per domain,
  open and click tracking, unsubscribe and bounce handling.
- ``programs``: programs of steps (send, wait, task, branch, change stage, enrol), enrolments and
  where every contact is, the advance engine, and program metrics.

Apps depend downwards: programs → mailing.
"""

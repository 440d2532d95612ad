"""Routing (SPEC C6, seed 004 §4, seed 003): who works each lead, and how fast.

- ``assignment``: ordered assignment rules, round robin weighted by capacity or least loaded,
  account matching, availability, the simulator, and the record of every assignment.
- ``sla``: service-level agreements for each handoff on business-hours calendars, the clocks
  stored on the records, the breach sweep and escalation, the queues per role and compliance.

Apps depend downwards: sla → assignment. Routing sits above nurture (a rule may enrol a lead in
a program) and lifecycle (it listens to leads moving).
"""

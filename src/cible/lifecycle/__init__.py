"""The lead lifecycle (SPEC C5, seed 004 §2–3): stages, transitions, shared stage definitions,
and — in later apps of this package — rule and predictive scoring.

- ``leads``: a lead is one demand from a person (or an account): its stage on the road Suspect →
  Prospect → MQL → SAL → SQL → Opportunity → Customer (or Recycled, Disqualified), its BANT, its
  source and campaign, and every move it made, with who, when, why and the score at the time.
"""

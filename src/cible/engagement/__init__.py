"""Engagement (SPEC C4): every touchpoint with the market, and how it reaches Cible.

- ``campaigns``: what Marketing runs (type, goal, budget and cost, dates, target, members and
  their response status, UTM parameters).
- ``interactions``: the touchpoints themselves (emails, calls, meetings, web visits, forms,
  downloads, events, webinars, demo requests, trials, product usage), the timeline of a contact
  or an organisation, and the idempotent event ingestion for websites and products.
- ``capture``: public web forms and lead magnets, matched to existing contacts and organisations.

Apps depend downwards: capture → interactions → campaigns. Leads, stages and scores sit higher,
in ``cible.lifecycle``; they listen to the signals interactions send.
"""

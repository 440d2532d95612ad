"""Freshness: staleness rules, verification tasks and the data-quality dashboard."""

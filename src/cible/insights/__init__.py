"""Insights: the figures that read across every lower app (ARCHITECTURE.md: dashboards, KPIs)."""

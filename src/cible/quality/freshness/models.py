"""Models of the freshness app."""

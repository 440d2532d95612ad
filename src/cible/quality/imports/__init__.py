"""Import framework: a registry of importable entities and the runs that bring files in."""

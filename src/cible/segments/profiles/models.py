"""Models: filled in by the app's first migration."""

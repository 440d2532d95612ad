"""Duplicate organisations and contacts: detection with blocking, review queue, merge and undo."""

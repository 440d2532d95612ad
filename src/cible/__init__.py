"""Cible: B2B lead and revenue management."""

import os

# polars allocates with its own jemalloc, which keeps freed pages for 10 s before it gives them
# back. An import frees a file's worth of frames right after counting its rows and again after
# every window it reads: kept for 10 s, they stood on top of the next batches (~50 MB of the
# 1M-row import's peak). One second costs nothing measurable; 0 s doubles polars' reading time.
# Read when polars is first imported, so it is set here, before any module of Cible imports it.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0")

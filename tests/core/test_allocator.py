"""polars' allocator is told to give freed memory back within a second (see cible/__init__.py),
in every process that runs Cible: the setting must be in place before polars is imported."""

from __future__ import annotations

import subprocess
import sys


def test_polars_allocator_gives_memory_back_within_a_second() -> None:
    script = (
        "import os, sys\n"
        "os.environ.pop('_RJEM_MALLOC_CONF', None)\n"
        "import cible\n"
        "assert 'polars' not in sys.modules, 'polars was imported before the setting'\n"
        "print(os.environ['_RJEM_MALLOC_CONF'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["dirty_decay_ms:1000,muzzy_decay_ms:0"]

"""`cible serve`: run Cible under gunicorn, the production application server, with the
background task consumer (Huey) beside it unless `--no-worker` says it runs elsewhere."""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cible.wsgi import application

        return application


def _die_with_parent() -> None:
    """In the consumer, before it starts: stop when `cible serve` dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: `serve` still stops it on every ordinary exit


def _consumer(threads: int) -> subprocess.Popen[bytes]:
    """`cible worker` in its own process: imports and other long tasks keep running after
    the web request that started them, and a slow task never holds a web worker."""
    return subprocess.Popen(
        [sys.executable, "-m", "cible.cli", "worker", "--threads", str(threads)],
        preexec_fn=_die_with_parent,  # safe: `serve` has started no thread yet
    )


class Command(BaseCommand):
    help = "Serve Cible with gunicorn, and run its background tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply migrations first."
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the background task consumer (run `cible worker` elsewhere).",
        )
        parser.add_argument(
            "--task-threads",
            type=int,
            default=2,
            help="Background tasks run at the same time (imports, dry runs; default 2).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        consumer = None
        if not options["no_worker"] and not settings.HUEY.get("immediate"):
            consumer = _consumer(max(1, options["task_threads"]))
            self.stdout.write(f"Background tasks: consumer pid {consumer.pid}")
        self.stdout.write(f"Cible on http://{options['host']}:{options['port']}/")
        try:
            _Gunicorn(
                {
                    "bind": f"{options['host']}:{options['port']}",
                    "workers": options["workers"],
                    "threads": options["threads"],
                    "worker_class": "gthread",
                    "accesslog": "-",
                    "timeout": 120,
                }
            ).run()
        finally:
            if consumer is not None and consumer.poll() is None:
                # Immediate stop: a batch cut short is rolled back, and the import resumes
                # after its last committed batch when started again.
                consumer.terminate()
                try:
                    consumer.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    consumer.kill()

"""Background work of email (Huey; run the consumer with `cible worker`).

- every minute: send what is due (`send_due` is safe to run twice at once: claims are atomic);
- every ten minutes: read the bounce mailboxes, if any is configured.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from cible.nurture.mailing import services


@db_periodic_task(crontab(minute="*"))
@lock_task("mailing-send-due")
def send_due_messages() -> None:
    """One sender at a time per queue: a slow minute does not pile workers on the SMTP server."""
    services.send_due()


@db_periodic_task(crontab(minute="*/10"))
@lock_task("mailing-read-bounces")
def read_bounces() -> None:
    services.bounces_read_mailboxes()

"""The interactions of a demo lead's life, from its plan (`lifecycle_plan.LeadPlan`): first
touch by source, newsletters, web visits, a burst of interest before MQL, the SDR's calls, the
AE's meetings, product usage once a customer, a bounce where the freshness step set one.

Behaviour carries signal, as in real bases: leads that went far were busier before Sales took
them up (the predictive model's cut-off), and half the winners a little more so. Its own random
stream (`ctx.rng_for("interactions")`), so the leads' road does not depend on it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from cible.demo.engagement import CampaignBook, CampaignInfo
from cible.demo.generator import DemoContext
from cible.demo.lifecycle_plan import DAY, FIRST_TOUCH, HOUR, Account, LeadPlan
from cible.demo.people import Weighted

BURST = Weighted(
    [
        ("web_visit", 30),
        ("content_download", 20),
        ("email_clicked", 12),
        ("webinar", 10),
        ("form_submission", 10),
        ("demo_request", 8),
        ("email_replied", 5),
        ("trial_signup", 5),
    ]
)
# How each kind reached Cible (the rest: email tracking).
CHANNEL = {
    "call": "ui",
    "meeting": "ui",
    "form_submission": "form",
    "content_download": "form",
    "demo_request": "form",
    "trial_signup": "form",
    "web_visit": "events",
    "product_usage": "events",
    "webinar": "import",  # attendee lists, imported after the session
    "event": "import",
}


class Touches:
    """Call it with a plan: its interactions as rows of `lifecycle.INTERACTION_COLUMNS`."""

    def __init__(
        self,
        ctx: DemoContext,
        book: CampaignBook,
        sdr: dict[str, int],
        accounts: dict[int, Account],
    ) -> None:
        self.rng = ctx.rng_for("interactions")
        self.now = ctx.now
        self.book = book
        self.sdr = sdr
        self.accounts = accounts
        self.csm = [ctx.users["csm"].pk, ctx.users["csm2"].pk]

    def __call__(self, plan: LeadPlan) -> Iterator[tuple]:
        """The interactions of the lead's life, in time order, none after now."""
        rng = self.rng
        rows: list[tuple] = []
        contact, org = plan.contact_id, plan.org_id
        end = plan.road[-1][1] if plan.final or plan.stage == "recycled" else self.now
        stages = dict(plan.road)

        def add(
            kind: str,
            at: dt.datetime,
            campaign: CampaignInfo | None = None,
            owner: int | None = None,
            outcome: str = "",
            channel: str = "",
            duration: int | None = None,
            subject: str = "",
            props: Any = None,
        ) -> None:
            channel = channel or CHANNEL.get(kind, "tracking")
            if at >= self.now or (contact is None and channel != "ui"):
                return
            rows.append(
                (
                    kind,
                    at,
                    contact,
                    org,
                    campaign.id if campaign else None,
                    owner,
                    outcome,
                    subject,
                    duration,
                    channel,
                    "",
                    json.dumps(props or {}),
                    at,
                )
            )

        person = plan.person
        mailable = person is not None and not person.no_email
        first = FIRST_TOUCH[plan.source]
        if first.startswith("email_") and not mailable:
            first = "call"  # no email to write to, or opted out: the SDR phoned instead
        owner_first = plan.owner_id if first in ("call", "meeting") else None
        add(
            first,
            plan.arrived,
            plan.campaign,
            owner_first,
            "connected" if first == "call" else ("held" if first == "meeting" else ""),
            "",
        )
        if plan.source == "advertising":
            add("web_visit", plan.arrived - 2 * HOUR, plan.campaign, props={"page": "/tarifs"})
        if mailable:
            letters = self.book.newsletters(plan.arrived, end)
            for letter in rng.sample(letters, min(len(letters), rng.randint(1, 5))):
                add("email_sent", letter.starts, letter)
                if rng.random() < 0.35:
                    add("email_opened", letter.starts + rng.randint(1, 40) * HOUR, letter)
                    if rng.random() < 0.3:
                        add("email_clicked", letter.starts + rng.randint(41, 60) * HOUR, letter)
        for _ in range(rng.randint(1, 2 + int(plan.quality * 2))):
            add(
                "web_visit",
                plan.arrived + (end - plan.arrived) * rng.random(),
                props={"page": rng.choice(("/", "/tarifs", "/blog", "/fonctionnalites"))},
            )
        mql = stages.get("mql")
        if mql is not None:
            for _ in range(rng.randint(4, 7) + plan.burst_extra):
                kind = BURST.pick(rng)
                at = mql - rng.uniform(0.1, 10) * DAY
                campaign = self.book.at("webinar", at) if kind == "webinar" else None
                if kind == "content_download":
                    campaign = self.book.at("content", at)
                add(kind, max(at, plan.arrived), campaign)
            add("form_submission", mql - HOUR, props={"form": "contact"})
        sdr = self.sdr[self.accounts[org].group]
        sal = stages.get("sal")
        if sal is not None:
            for number in range(rng.randint(1, 3)):
                outcome = rng.choice(("connected", "voicemail", "no_answer"))
                add(
                    "call",
                    sal + (number * 2 + 1) * DAY,
                    None,
                    sdr,
                    outcome,
                    "ui",
                    rng.randint(60, 900) if outcome == "connected" else None,
                    "Appel de qualification",
                )
        sql = stages.get("sql")
        if sql is not None:
            add(
                "meeting",
                sql - 2 * HOUR,
                None,
                plan.owner_id or sdr,
                "held",
                "ui",
                2_700,
                "Rendez-vous de découverte",
            )
            add("email_replied", sql + DAY)
        if plan.deal is not None:
            created, closed, stage, owner = plan.deal
            stop = closed or self.now
            if rng.random() < 0.3:
                add("trial_signup", created + 2 * DAY)
            for _ in range(rng.randint(2, 4)):
                add(
                    "meeting",
                    created + (stop - created) * rng.random(),
                    None,
                    owner,
                    rng.choice(("held", "held", "positive", "rescheduled")),
                    "ui",
                    3_600,
                    "Rendez-vous commercial",
                )
            if stage == "won" and closed is not None:
                csm = rng.choice(self.csm)
                months = min(8, int((self.now - closed).days / 30))
                for month in range(months):
                    add(
                        "product_usage",
                        closed + (month * 30 + rng.randint(1, 29)) * DAY,
                        None,
                        None,
                        channel="events",
                        props={"active_users": rng.randint(2, 40)},
                    )
                if months:
                    add(
                        "call",
                        closed + 20 * DAY,
                        None,
                        csm,
                        "connected",
                        "ui",
                        1_200,
                        "Point de démarrage",
                    )
        if (
            person is not None
            and person.bounced is not None
            and (plan.arrived <= person.bounced < end)
        ):
            add("email_bounced", person.bounced)
            rows = [
                r
                for r in rows
                if not (
                    r[0].startswith("email_") and r[0] != "email_bounced" and r[1] > person.bounced
                )
            ]
        rows.sort(key=lambda r: (r[1], r[0]))
        yield from rows

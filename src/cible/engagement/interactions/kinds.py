"""What each kind of interaction means elsewhere: its icon, the outcomes that fit it, and the
campaign response status it proves. Pure data, no database: the services, the timeline and the
tests read the same tables.
"""

from __future__ import annotations

from cible.engagement.campaigns.models import MemberStatus
from cible.engagement.interactions.models import InteractionKind, InteractionOutcome

K = InteractionKind
O = InteractionOutcome  # noqa: E741 - a one-letter alias keeps the tables below readable

# Bootstrap Icons names, one per kind, so a timeline reads at a glance.
ICONS: dict[str, str] = {
    K.EMAIL_SENT: "envelope",
    K.EMAIL_OPENED: "envelope-open",
    K.EMAIL_CLICKED: "cursor",
    K.EMAIL_REPLIED: "reply",
    K.EMAIL_BOUNCED: "envelope-x",
    K.CALL: "telephone",
    K.MEETING: "people",
    K.WEB_VISIT: "globe",
    K.FORM_SUBMISSION: "ui-checks",
    K.CONTENT_DOWNLOAD: "file-earmark-arrow-down",
    K.EVENT: "calendar-event",
    K.WEBINAR: "camera-video",
    K.DEMO_REQUEST: "display",
    K.TRIAL_SIGNUP: "rocket-takeoff",
    K.PRODUCT_USAGE: "activity",
}

# The buttons of "Log a call" / "Log a meeting": one click on an outcome saves.
CALL_OUTCOMES = (O.CONNECTED, O.VOICEMAIL, O.NO_ANSWER, O.WRONG_NUMBER)
MEETING_OUTCOMES = (O.HELD, O.NO_SHOW, O.RESCHEDULED)
# How a conversation went: fits any kind a person takes part in.
SENTIMENTS = (O.POSITIVE, O.NEUTRAL, O.NEGATIVE)

OUTCOMES: dict[str, tuple[str, ...]] = {
    K.CALL: (*CALL_OUTCOMES, *SENTIMENTS),
    K.MEETING: (*MEETING_OUTCOMES, *SENTIMENTS),
}


def outcomes_for(kind: str) -> tuple[str, ...]:
    """The outcomes an interaction of `kind` may have (besides none)."""
    return OUTCOMES.get(kind, SENTIMENTS)


# The campaign response an interaction proves (seed 004 §6: responses are what campaigns are
# measured by). Calls, meetings, bounces and product usage say nothing about a campaign's reach.
MEMBER_STATUS: dict[str, str] = {
    K.EMAIL_SENT: MemberStatus.SENT,
    K.EMAIL_OPENED: MemberStatus.OPENED,
    K.EMAIL_CLICKED: MemberStatus.CLICKED,
    K.WEB_VISIT: MemberStatus.CLICKED,  # a visit tagged with the campaign came through its link
    K.EVENT: MemberStatus.ATTENDED,
    K.WEBINAR: MemberStatus.ATTENDED,
    K.EMAIL_REPLIED: MemberStatus.RESPONDED,
    K.FORM_SUBMISSION: MemberStatus.RESPONDED,
    K.CONTENT_DOWNLOAD: MemberStatus.RESPONDED,
    K.DEMO_REQUEST: MemberStatus.RESPONDED,
    K.TRIAL_SIGNUP: MemberStatus.RESPONDED,
}

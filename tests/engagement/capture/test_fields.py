"""The pure parts: what a builder may ask, which websites may post, what is kept of a post,
and the robot checks' signed token. No database."""

from __future__ import annotations

import time

from cible.engagement.capture import fields, guard


def test_a_form_must_ask_for_the_email_once() -> None:
    spec, errors = fields.parse_fields(
        [{"field": "first_name"}, {"field": "first_name"}, {"field": "salary"}]
    )

    assert [item["field"] for item in spec] == ["first_name"]
    assert [e.message for e in errors] == [
        "“first_name” is asked twice",
        "“salary” is not a field a form can ask",
        "a form must ask for the email address",
    ]


def test_the_email_is_always_required() -> None:
    spec, errors = fields.parse_fields(
        [{"field": "email", "required": False, "label_en": "  Mail  "}]
    )

    assert errors == []
    assert spec == [{"field": "email", "label_fr": "", "label_en": "Mail", "required": True}]


def test_allowed_websites_are_origins() -> None:
    origins, errors = fields.parse_origins(
        "https://WWW.Example.com/landing/, http://localhost:8080\nhttps://www.example.com ftp://x"
    )

    assert origins == ["https://www.example.com", "http://localhost:8080"]
    assert [e.field for e in errors] == ["allowed_origins"]
    assert "ftp://x" in errors[0].message


def test_what_is_kept_of_a_post() -> None:
    kept = fields.stored(
        {"email": "a@b.example", "_ts": "token", "message": "x" * 20_000, "list": [1, 2]}
    )

    assert kept == {"email": "a@b.example", "message": "x" * 10_000, "list": "[1, 2]"}


def test_utm_parameters_are_the_five_known_ones() -> None:
    utm = fields.clean_utm(
        {"utm_source": " news  letter ", "utm_term": "t" * 300, "utm_id": "1", "utm_medium": 3}
    )

    assert utm == {"utm_source": "news letter", "utm_term": "t" * 100}


def test_labels_fall_back_to_the_catalogue_in_each_language() -> None:
    spec = [{"field": "company", "label_fr": "Société", "label_en": ""}, {"field": "gone"}]

    assert [f.label for f in fields.form_fields(spec, "fr")] == ["Société"]
    assert [f.label for f in fields.form_fields(spec, "en")] == ["Company"]


def test_the_token_tells_people_from_robots() -> None:
    now = time.time()
    token = guard.issue_token("abc", now=now - 30)

    assert guard.check_token(token, "abc", now=now).robot is False
    assert guard.check_token(token, "abc", now=now - 29).robot is True  # one second: too fast
    assert guard.check_token(token, "xyz", now=now).reason == "form token of another form"
    assert guard.check_token(token + "x", "abc", now=now).reason == "forged form token"
    stale = guard.check_token(token, "abc", now=now + 2 * 86_400)
    assert stale.expired and not stale.robot


def test_the_sender_hash_depends_on_the_form_and_hides_the_address() -> None:
    one = guard.sender_hash("203.0.113.7", "abc")

    assert len(one) == 64 and "203.0.113.7" not in one
    assert one == guard.sender_hash("203.0.113.7", "abc")
    assert one != guard.sender_hash("203.0.113.7", "xyz")

"""Scores and their reasons, on frames built by hand (no database): evidence for and against."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from cible.quality.duplicates import frames, scoring

BLANK_ORG = {name: "" for name, kind in frames.ORGANISATION_COLUMNS.items() if kind == pl.String}
BLANK_CONTACT = {name: "" for name, kind in frames.CONTACT_COLUMNS.items() if kind == pl.String}


def organisations(*rows: dict[str, Any]) -> pl.DataFrame:
    data = [
        {**BLANK_ORG, "id": n + 1, "parent_id": None, "country": "FR", **row}
        for n, row in enumerate(rows)
    ]
    return frames.prepare_organisations(pl.DataFrame(data, schema=frames.ORGANISATION_COLUMNS))


def contacts(*rows: dict[str, Any]) -> pl.DataFrame:
    data = [
        {**BLANK_CONTACT, "id": n + 1, "organisation_id": None, **row} for n, row in enumerate(rows)
    ]
    return frames.prepare_contacts(pl.DataFrame(data, schema=frames.CONTACT_COLUMNS))


def score_pair(frame: pl.DataFrame, scorer: Any, reasons: Any) -> tuple[float, list[str]]:
    scored = scorer(frame, np.array([0]), np.array([1]))
    return float(scored.score[0]), [r["code"] for r in reasons(frame, scored, 0)]


def org_pair(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, list[str]]:
    frame = organisations(a, b)
    return score_pair(frame, scoring.organisation_scores, scoring.organisation_reasons)


PARIS = {"postal_code": "75008", "city": "Paris"}


def test_same_siren_and_a_typo_is_a_duplicate_with_its_reasons() -> None:
    frame = organisations(
        {"legal_name": "Dupont Conseil SAS", "siren": "732829320", "domain": "dupont.fr", **PARIS},
        {"legal_name": "Dupnot Conseil", "siren": "732829320", "domain": "dupont.fr", **PARIS},
    )
    scored = scoring.organisation_scores(frame, np.array([0]), np.array([1]))
    reasons = scoring.organisation_reasons(frame, scored, 0)
    assert scored.score[0] > 0.99
    assert [r["code"] for r in reasons][:3] == ["same_siren", "same_domain", "name"]
    name = next(r for r in reasons if r["code"] == "name")
    assert 85 <= name["percent"] < 100
    phrases = [scoring.describe(r) for r in reasons]
    assert "same SIREN" in phrases and "same domain" in phrases
    assert f"names {name['percent']} % alike" in phrases
    assert "same city (Paris)" in phrases


def test_abbreviation_and_legal_form_with_the_same_phone() -> None:
    score, codes = org_pair(
        {"legal_name": "Société Générale SA", "phone": "+33142140000", **PARIS},
        {"legal_name": "Ste Generale", "phone": "+33142140000", **PARIS},
    )
    assert score >= scoring.DEFAULT_THRESHOLD
    assert {"name", "same_phone", "same_city"} <= set(codes)


def test_two_valid_sirens_are_two_companies() -> None:
    score, codes = org_pair(
        {"legal_name": "Martin Conseil SAS", "siren": "732829320", **PARIS},
        {"legal_name": "Martin Conseil SARL", "siren": "552100554", **PARIS},
    )
    assert score < 0.05
    assert codes[0] == "different_siren"


def test_the_same_name_in_another_city_is_not_a_duplicate() -> None:
    score, codes = org_pair(
        {
            "legal_name": "Müller Beratung GmbH",
            "country": "DE",
            "postal_code": "10115",
            "city": "Berlin",
            "phone": "+4930123456",
        },
        {
            "legal_name": "Müller Beratung GmbH",
            "country": "DE",
            "postal_code": "80331",
            "city": "München",
            "phone": "+4989123456",
        },
    )
    assert score < 0.2
    assert "different_department" in codes and "different_phone" in codes


def test_a_name_and_a_city_alone_are_not_enough() -> None:
    score, _codes = org_pair(
        {
            "legal_name": "Novatek Conseil",
            "country": "DE",
            "postal_code": "10115",
            "city": "Berlin",
        },
        {
            "legal_name": "Novatek Conseil GmbH",
            "country": "DE",
            "postal_code": "10117",
            "city": "Berlin",
        },
    )
    assert score < scoring.DEFAULT_THRESHOLD


def test_a_subsidiary_sharing_the_group_domain_is_not_a_duplicate() -> None:
    frame = organisations(
        {"legal_name": "Groupe Martin SA", "domain": "martin.fr", **PARIS},
        {
            "legal_name": "Groupe Martin Lyon SAS",
            "domain": "martin.fr",
            "postal_code": "69003",
            "city": "Lyon",
        },
    )
    frame = frame.with_columns(pl.Series("parent_id", [-1, 1]))
    scored = scoring.organisation_scores(frame, np.array([0]), np.array([1]))
    codes = [r["code"] for r in scoring.organisation_reasons(frame, scored, 0)]
    assert scored.score[0] < 0.01
    assert codes[0] == "parent_child"


def test_webmail_domains_prove_nothing() -> None:
    score, codes = org_pair(
        {"legal_name": "Atelier Rose", "domain": "gmail.com", **PARIS},
        {"legal_name": "Boulangerie Vert", "domain": "gmail.com", **PARIS},
    )
    assert "same_domain" not in codes
    assert score < 0.01


def contact_pair(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, list[str]]:
    frame = contacts(a, b)
    return score_pair(frame, scoring.contact_scores, scoring.contact_reasons)


def test_contact_with_the_same_email() -> None:
    score, codes = contact_pair(
        {
            "first_name": "Jean",
            "last_name": "Dupont",
            "email_key": "jean.dupont@acme.fr",
            "organisation_id": 7,
        },
        {"first_name": "J.", "last_name": "DUPONT", "email_key": "jean.dupont@acme.fr"},
    )
    assert score > 0.99
    assert codes[0] == "same_email"


def test_contact_initial_and_same_organisation() -> None:
    score, codes = contact_pair(
        {
            "first_name": "Jean",
            "last_name": "Dupont",
            "organisation_id": 7,
            "mobile": "+33612345678",
        },
        {"first_name": "J.", "last_name": "Dupont", "organisation_id": 7},
    )
    assert score >= scoring.DEFAULT_THRESHOLD
    assert "same_organisation" in codes


def test_namesakes_at_two_organisations_are_two_people() -> None:
    score, codes = contact_pair(
        {
            "first_name": "Marie",
            "last_name": "Martin",
            "email_key": "marie.martin@acme.fr",
            "organisation_id": 7,
        },
        {
            "first_name": "Marie",
            "last_name": "Martin",
            "email_key": "marie.martin@zeta.fr",
            "organisation_id": 8,
        },
    )
    assert score < 0.1
    assert {"different_email", "different_organisation"} <= set(codes)


def test_a_shared_mailbox_is_weak_evidence() -> None:
    score, codes = contact_pair(
        {
            "first_name": "Paul",
            "last_name": "Durand",
            "email_key": "contact@acme.fr",
            "organisation_id": 7,
        },
        {
            "first_name": "Sophie",
            "last_name": "Leroy",
            "email_key": "contact@acme.fr",
            "organisation_id": 7,
        },
    )
    assert "same_role_mailbox" in codes and "same_email" not in codes
    assert score < 0.5

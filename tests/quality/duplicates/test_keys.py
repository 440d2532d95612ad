"""Names reduced to what identifies them: legal forms, accents, punctuation, "&"/"et"/"and" and
common abbreviations do not make two names different."""

from __future__ import annotations

import polars as pl
import pytest

from cible.quality.duplicates import keys


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Société Générale S.A.", "societe generale"),
        ("Ste Generale", "societe generale"),
        ("STÉ GÉNÉRALE SA", "societe generale"),
        ("Dupont Conseil SAS", "dupont conseil"),
        ("Dupont Conseil S.A.S.", "dupont conseil"),
        ("SARL Dupont Conseil", "dupont conseil"),
        ("Dupont Conseil (SASU)", "dupont conseil"),
        ("Dupont Conseil EURL", "dupont conseil"),
        ("Dupont Conseil SNC", "dupont conseil"),
        ("Dupont Conseil SCI", "dupont conseil"),
        ("Müller Beratung GmbH & Co. KG", "muller beratung"),
        ("Müller Beratung AG", "muller beratung"),
        ("Smith Consulting Ltd.", "smith consulting"),
        ("Smith Consulting LLC", "smith consulting"),
        ("Smith Consulting, Inc.", "smith consulting"),
        ("Van Dijk Logistics B.V.", "van dijk logistics"),
        ("Van Dijk Logistics NV", "van dijk logistics"),
        ("Rossi Meccanica S.p.A.", "rossi meccanica"),
        ("García Servicios S.L.", "garcia servicios"),
        ("Bianchi S.r.l.", "bianchi"),
        ("Sàrl Dubois", "dubois"),
    ],
)
def test_legal_forms_and_accents_are_ignored(typed: str, key: str) -> None:
    assert keys.organisation_name_key(typed) == key


def test_and_et_ampersand_are_the_same() -> None:
    assert (
        keys.organisation_name_key("Dupont & Fils")
        == keys.organisation_name_key("Dupont et Fils")
        == keys.organisation_name_key("DUPONT AND FILS")
        == "dupont fils"
    )


def test_abbreviations_are_spelt_out() -> None:
    assert keys.organisation_name_key("Ets Martin") == keys.organisation_name_key(
        "Établissements Martin SAS"
    )
    assert keys.organisation_name_key("Gpe Martin") == "groupe martin"
    assert keys.organisation_name_key("Martin Group plc") == "martin groupe"
    assert keys.organisation_name_key("Acme Intl") == "acme international"


def test_legal_form_inside_a_word_stays() -> None:
    assert keys.organisation_name_key("Sassenage Mécanique") == "sassenage mecanique"
    assert keys.organisation_name_key("Agora Saveurs") == "agora saveurs"


def test_a_name_made_only_of_a_legal_form_is_kept() -> None:
    assert keys.organisation_name_key("SA") == "sa"
    assert keys.organisation_name_key("") == ""
    assert keys.organisation_name_key(None) == ""


def test_ligatures_and_punctuation() -> None:
    assert keys.folded("Œuvres d'Art & Cie!") == "oeuvres d art cie"
    assert keys.organisation_name_key("L'Oréal") == "oreal"
    assert keys.organisation_name_key("Oréal") == "oreal"


def test_person_key_ignores_order_case_and_accents() -> None:
    assert (
        keys.person_name_key("Jean-Pierre", "DUPONT")
        == keys.person_name_key("dupont", "jean pierre")
        == keys.person_name_key("Jean Pierre", "Dupont")
        == "dupont jean pierre"
    )
    assert keys.person_name_key("Hélène", "Müller") == keys.person_name_key("Helene", "MULLER")


def test_departments() -> None:
    frame = pl.DataFrame(
        {
            "postal": ["75008", "13001", "97400", "10115", "EC1A 1BB", "", "2A000"],
            "country": ["FR", "", "FR", "DE", "GB", "FR", "FR"],
        }
    )
    out = frame.select(keys.department(pl.col("postal"), pl.col("country")).alias("d"))["d"]
    assert out.to_list() == ["75", "13", "974", "DE:10", "GB:EC", "", "2A"]

"""The normalisers every way in shares (pure Python, no database)."""

import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cible.core import normalisers as norm
from cible.core.normalisers import NormalisationError

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Arbitrary text, from short to huge (up to 10,000 characters).
any_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.text(min_size=1_000, max_size=10_000),
)


# --------------------------------------------------------------------------- error


def test_error_carries_field_and_message() -> None:
    error = NormalisationError("phone", "“12” is not a valid phone number")
    assert isinstance(error, ValueError)
    assert error.field == "phone"
    assert error.message == "“12” is not a valid phone number"
    assert str(error) == error.message
    assert "phone" in repr(error)


def test_error_echo_is_truncated_to_60_characters() -> None:
    with pytest.raises(NormalisationError) as caught:
        norm.siren("1" * 500)
    echoed = re.search(r"“(.*)”", caught.value.message)
    assert echoed is not None
    assert len(echoed.group(1)) == 60
    assert echoed.group(1).endswith("\N{HORIZONTAL ELLIPSIS}")


# Every normaliser: None and blank give None (or the documented empty value).
BLANK_NORMALISERS: list[Callable[[str | None], object]] = [
    norm.tidy_text,
    norm.person_name,
    norm.organisation_name,
    norm.phone,
    norm.country,
    norm.email,
    norm.domain,
    norm.siren,
    norm.siret,
    norm.vat,
    norm.naf_code,
    lambda raw: norm.postal_code(raw, "FR"),
]


@pytest.mark.parametrize("normaliser", BLANK_NORMALISERS)
@pytest.mark.parametrize("raw", [None, "", "   ", "\t\n\u00a0", "\u200b"])
def test_blank_gives_none(normaliser: Callable[[str | None], object], raw: str | None) -> None:
    assert normaliser(raw) is None


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_blank_website_and_search_key(raw: str | None) -> None:
    assert norm.website(raw) == (None, None)
    assert norm.search_key(raw) == ""


# --------------------------------------------------------------------------- tidy_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Acme  ", "Acme"),
        ("Acme\u00a0\u00a0Corp", "Acme Corp"),
        ("Acme\tCorp\r\nParis", "Acme Corp Paris"),
        ("Ac\x00me\x07", "Acme"),
        ("Zero\u200bwidth\ufeff", "Zerowidth"),
        ("Narrow\u202fno-break", "Narrow no-break"),
        ("Cafe\u0301", "Café"),  # combining accent composed (NFC)
        ("déjà vu", "déjà vu"),
    ],
)
def test_tidy_text(raw: str, expected: str) -> None:
    assert norm.tidy_text(raw) == expected


def test_tidy_text_max_length() -> None:
    assert norm.tidy_text("  abc  ", max_length=3) == "abc"
    with pytest.raises(NormalisationError) as caught:
        norm.tidy_text("abcd", max_length=3, field="name")
    assert caught.value.field == "name"
    assert "is too long (4 characters, at most 3)" in str(caught.value)


def test_tidy_text_accepts_numbers_from_spreadsheets() -> None:
    assert norm.tidy_text(42) == "42"  # type: ignore[arg-type]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JEAN-PIERRE", "Jean-Pierre"),
        ("jean-pierre", "Jean-Pierre"),
        ("de la fontaine", "de la Fontaine"),
        ("JEAN DE LA FONTAINE", "Jean de la Fontaine"),
        ("DE GAULLE", "de Gaulle"),
        ("le pen", "Le Pen"),
        ("LA FONTAINE", "La Fontaine"),
        ("van der berg", "van der Berg"),
        ("VON BRAUN", "von Braun"),
        ("o'neil", "O'Neil"),
        ("O\u2019NEIL", "O\u2019Neil"),
        ("d'alembert", "d'Alembert"),
        ("l'hermite", "L'Hermite"),
        ("maria da silva", "Maria da Silva"),
        ("mcdonald", "Mcdonald"),
        ("ÉLODIE", "Élodie"),
        ("DE", "De"),
        # Mixed case is kept as typed.
        ("McDonald", "McDonald"),
        ("Jean-pierre", "Jean-pierre"),
        ("de Villepin", "de Villepin"),
        ("  jean   DUPONT ", "jean DUPONT"),
    ],
)
def test_person_name(raw: str, expected: str) -> None:
    assert norm.person_name(raw) == expected


def test_person_name_too_long_names_the_field() -> None:
    with pytest.raises(NormalisationError) as caught:
        norm.person_name("x" * 151, field="last_name")
    assert caught.value.field == "last_name"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("société générale", "Société Générale"),
        ("l'oréal", "L'Oréal"),
        ("IBM", "IBM"),
        ("SNCF Voyageurs", "SNCF Voyageurs"),
        ("ACME SAS", "ACME SAS"),
        ("  Dupont   et Fils ", "Dupont et Fils"),
        ("saint-gobain", "Saint-Gobain"),
    ],
)
def test_organisation_name(raw: str, expected: str) -> None:
    assert norm.organisation_name(raw) == expected


def test_organisation_name_max_length() -> None:
    assert norm.organisation_name("A" * 255) == "A" * 255
    with pytest.raises(NormalisationError, match="at most 255"):
        norm.organisation_name("A" * 256)


# --------------------------------------------------------------------------- phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("01 23 45 67 89", "+33123456789"),
        ("01.23.45.67.89", "+33123456789"),
        ("+33 1 23 45 67 89", "+33123456789"),
        ("+33 (0)1 23 45 67 89", "+33123456789"),
        ("0033 1 23 45 67 89", "+33123456789"),
        ("(0)1.23.45.67.89", "+33123456789"),
        ("06 12 34 56 78", "+33612345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+44 (0)20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("tel:+33123456789", "+33123456789"),
        ("0590 12 34 56", "+590590123456"),  # Guadeloupe, typed the French way
        ("0262 12 34 56", "+262262123456"),  # La Réunion
    ],
)
def test_phone(raw: str, expected: str) -> None:
    assert norm.phone(raw) == expected


def test_phone_region() -> None:
    assert norm.phone("020 7946 0958", region="GB") == "+442079460958"
    assert norm.phone("030 901820", region="de") == "+4930901820"


@pytest.mark.parametrize("raw", ["12", "abc", "01 23", "+33 1 23", "+999 123 456 789", "x" * 200])
def test_phone_invalid(raw: str) -> None:
    with pytest.raises(NormalisationError) as caught:
        norm.phone(raw, field="mobile")
    assert caught.value.field == "mobile"
    assert "is not a valid phone number" in str(caught.value) or "too long" in str(caught.value)


def test_phone_without_region_needs_international_form() -> None:
    assert norm.phone("+33123456789", region=None) == "+33123456789"
    with pytest.raises(NormalisationError):
        norm.phone("01 23 45 67 89", region=None)


# --------------------------------------------------------------------------- country


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("France", "FR"),
        ("FR", "FR"),
        ("fr", "FR"),
        ("FRA", "FR"),
        ("Allemagne", "DE"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("Royaume-Uni", "GB"),
        ("royaume uni", "GB"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("GB", "GB"),
        ("Etats-Unis", "US"),
        ("États-Unis", "US"),
        ("ÉTATS-UNIS", "US"),
        ("USA", "US"),
        ("Espagne", "ES"),
        ("Italie", "IT"),
        ("Belgique", "BE"),
        ("Suisse", "CH"),
        ("Pays-Bas", "NL"),
        ("Luxembourg", "LU"),
        ("Tchéquie", "CZ"),
        ("Grèce", "GR"),
        ("Suède", "SE"),
        ("Norvège", "NO"),
        ("Maroc", "MA"),
        ("Tunisie", "TN"),
        ("Algérie", "DZ"),
        ("Sénégal", "SN"),
        ("Côte d'Ivoire", "CI"),
        ("cote d\u2019ivoire", "CI"),
        ("Japon", "JP"),
        ("Chine", "CN"),
        ("Inde", "IN"),
        ("Brésil", "BR"),
        ("Canada", "CA"),
        ("Portugal", "PT"),
        ("Czechia", "CZ"),
        ("Russian Federation", "RU"),
        ("bolivia", "BO"),
    ],
)
def test_country(raw: str, expected: str) -> None:
    assert norm.country(raw) == expected


EU_AND_NEIGHBOURS_FR = {
    "AT": "Autriche", "BE": "Belgique", "BG": "Bulgarie", "CY": "Chypre", "CZ": "Tchéquie",
    "DE": "Allemagne", "DK": "Danemark", "EE": "Estonie", "ES": "Espagne", "FI": "Finlande",
    "FR": "France", "GR": "Grèce", "HR": "Croatie", "HU": "Hongrie", "IE": "Irlande",
    "IT": "Italie", "LT": "Lituanie", "LU": "Luxembourg", "LV": "Lettonie", "MT": "Malte",
    "NL": "Pays-Bas", "PL": "Pologne", "PT": "Portugal", "RO": "Roumanie", "SE": "Suède",
    "SI": "Slovénie", "SK": "Slovaquie", "GB": "Royaume-Uni", "CH": "Suisse", "NO": "Norvège",
    "US": "États-Unis", "CA": "Canada", "MA": "Maroc", "TN": "Tunisie", "DZ": "Algérie",
    "SN": "Sénégal", "CI": "Côte d'Ivoire", "JP": "Japon", "CN": "Chine", "IN": "Inde",
    "BR": "Brésil",
}  # fmt: skip


@pytest.mark.parametrize(("code", "name"), sorted(EU_AND_NEIGHBOURS_FR.items()))
def test_country_french_names(code: str, name: str) -> None:
    assert norm.country(name) == code
    assert norm.country(name.upper()) == code
    assert norm.country(code.lower()) == code


@pytest.mark.parametrize("raw", ["Narnia", "XX", "ZZZ", "Atlantis", "x" * 100])
def test_country_unknown(raw: str) -> None:
    with pytest.raises(NormalisationError) as caught:
        norm.country(raw)
    assert caught.value.field == "country"
    assert "country" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "language", "expected"),
    [
        ("DE", "fr", "Allemagne"),
        ("DE", "en", "Germany"),
        ("GB", "fr-fr", "Royaume-Uni"),
        ("de", "en", "Germany"),
        ("XX", "fr", "XX"),
        (None, "fr", ""),
    ],
)
def test_country_label(code: str | None, language: str, expected: str) -> None:
    assert norm.country_label(code, language) == expected


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jean.dupont@example.fr", "jean.dupont@example.fr"),
        ("Jean.Dupont@Example.FR", "jean.dupont@example.fr"),
        ("  jean@example.fr ", "jean@example.fr"),
        ("mailto:jean@example.fr", "jean@example.fr"),
        ("Jean Dupont <Jean@Example.fr>", "jean@example.fr"),
        ("élodie@exemple.fr", "élodie@exemple.fr"),
    ],
)
def test_email(raw: str, expected: str) -> None:
    assert norm.email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("jean", "@-sign"),
        ("jean@", "is not a valid email address"),
        ("jean@example", "period"),
        ("jean..dupont@example.fr", "two periods"),
        ("jean@exa mple.fr", "is not a valid email address"),
        ("a@b@example.fr", "is not a valid email address"),
    ],
)
def test_email_invalid(raw: str, fragment: str) -> None:
    with pytest.raises(NormalisationError) as caught:
        norm.email(raw, field="secondary_email")
    assert caught.value.field == "secondary_email"
    assert fragment in str(caught.value)
    assert f"“{raw}”" in str(caught.value)
    assert "The email address is not valid" not in str(caught.value)


# --------------------------------------------------------------------------- web


@pytest.mark.parametrize(
    ("raw", "url", "domain"),
    [
        ("WWW.Example.fr/contact", "https://www.example.fr/contact", "example.fr"),
        ("example.fr", "https://example.fr", "example.fr"),
        ("https://example.fr/", "https://example.fr", "example.fr"),
        ("http://Example.FR/Path?q=1", "http://example.fr/Path?q=1", "example.fr"),
        ("https://shop.example.co.uk", "https://shop.example.co.uk", "shop.example.co.uk"),
        ("https://www.example.fr:8443/a", "https://www.example.fr:8443/a", "example.fr"),
        ("//www.example.fr", "https://www.example.fr", "example.fr"),
        ("www.bücher.de", "https://www.bücher.de", "bücher.de"),
    ],
)
def test_website(raw: str, url: str, domain: str) -> None:
    assert norm.website(raw) == (url, domain)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("exa mple.fr", "spaces"),
        ("localhost", "no dot"),
        ("https://intranet/", "no dot"),
        ("ftp://example.fr", "only http and https"),
        ("javascript:alert(1)", "is not a website address"),
        ("https://user:secret@example.fr", "user name"),
        ("https://exa_mple.fr", "host name is not valid"),
        ("https://-example.fr", "host name is not valid"),
        ("192.168.1.1", "host name is not valid"),
        ("https://example.fr:99999", "is not a website address"),
        ("http://[::1", "is not a website address"),
    ],
)
def test_website_invalid(raw: str, fragment: str) -> None:
    with pytest.raises(NormalisationError) as caught:
        norm.website(raw)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.example.fr/contact", "example.fr"),
        ("WWW.EXAMPLE.FR", "example.fr"),
        ("example.fr", "example.fr"),
        ("jean.dupont@Example.fr", "example.fr"),
        ("jean@www.example.fr", "example.fr"),
    ],
)
def test_domain(raw: str, expected: str) -> None:
    assert norm.domain(raw) == expected


@pytest.mark.parametrize("raw", ["jean@localhost", "@", "no domain here", "http://"])
def test_domain_invalid(raw: str) -> None:
    with pytest.raises(NormalisationError):
        norm.domain(raw)


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    "raw", ["732829320", "732 829 320", "732.829.320", "732-829-320", " 732\u00a0829\u00a0320 "]
)
def test_siren(raw: str) -> None:
    assert norm.siren(raw) == "732829320"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("732829321", "valid check digit"),
        ("73282932", "9 digits"),
        ("7328293200", "9 digits"),
        ("73282932A", "9 digits"),
        ("٧٣٢٨٢٩٣٢٠", "9 digits"),  # Arabic-Indic digits are not accepted
    ],
)
def test_siren_invalid(raw: str, fragment: str) -> None:
    with pytest.raises(NormalisationError) as caught:
        norm.siren(raw)
    assert "is not a valid SIREN" in str(caught.value)
    assert fragment in str(caught.value)
    assert caught.value.field == "siren"


@pytest.mark.parametrize("raw", ["73282932000074", "732 829 320 00074", "732.829.320.00074"])
def test_siret(raw: str) -> None:
    assert norm.siret(raw) == "73282932000074"


def test_siret_la_poste_exception() -> None:
    # La Poste establishments do not follow the Luhn rule (sum of digits % 5 instead).
    assert norm.siret("35600000000048") == "35600000000048"


@pytest.mark.parametrize("raw", ["73282932000075", "7328293200007", "732829320", "ABCDEFGHIJKLMN"])
def test_siret_invalid(raw: str) -> None:
    with pytest.raises(NormalisationError, match="is not a valid SIRET: 14 digits"):
        norm.siret(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FR40303265045", "FR40303265045"),
        ("fr 40 303 265 045", "FR40303265045"),
        ("FR 40303265045", "FR40303265045"),
        ("DE136695976", "DE136695976"),
        ("BE0403019261", "BE0403019261"),
    ],
)
def test_vat(raw: str, expected: str) -> None:
    assert norm.vat(raw) == expected


@pytest.mark.parametrize(
    "raw", ["FR40303265046", "40303265045", "XX123456789", "FR", "GB123", "TVA intracom"]
)
def test_vat_invalid(raw: str) -> None:
    with pytest.raises(NormalisationError, match="is not a valid EU VAT number") as caught:
        norm.vat(raw)
    assert caught.value.field == "vat_number"


def test_naf_code() -> None:
    assert norm.naf_code(" 6201z ") == "62.01Z"
    with pytest.raises(NormalisationError, match="division 00 does not exist") as caught:
        norm.naf_code("00.00Z")
    assert caught.value.field == "naf_code"


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("75008", "FR", "75008"),
        ("75 008", "FR", "75008"),
        (" 13001 ", "fr", "13001"),
        ("97400", "FR", "97400"),
        ("sw1a 1aa", "GB", "SW1A 1AA"),
        ("10115", "DE", "10115"),
        ("1000", "BE", "1000"),
        ("H3Z 2Y7", None, "H3Z 2Y7"),
    ],
)
def test_postal_code(raw: str, country: str | None, expected: str) -> None:
    assert norm.postal_code(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country"),
    [("7500", "FR"), ("750080", "FR"), ("75OO8", "FR"), ("SW1A 1AA", "FR"), ("#12!", "GB")],
)
def test_postal_code_invalid(raw: str, country: str) -> None:
    with pytest.raises(NormalisationError) as caught:
        norm.postal_code(raw, country)
    assert caught.value.field == "postal_code"


@pytest.mark.parametrize(
    ("postal", "region"),
    [
        ("75008", "FR-IDF"),
        ("92100", "FR-IDF"),
        ("13001", "FR-PAC"),
        ("69003", "FR-ARA"),
        ("59000", "FR-HDF"),
        ("67000", "FR-GES"),  # Bas-Rhin, via the European collectivity of Alsace
        ("44000", "FR-PDL"),
        ("35000", "FR-BRE"),
        ("33000", "FR-NAQ"),
        ("31000", "FR-OCC"),
        ("21000", "FR-BFC"),
        ("45000", "FR-CVL"),
        ("14000", "FR-NOR"),
        ("20000", "FR-20R"),  # Ajaccio, Corse-du-Sud
        ("20200", "FR-20R"),  # Bastia, Haute-Corse
        ("97100", "FR-971"),
        ("97200", "FR-972"),
        ("97300", "FR-973"),
        ("97400", "FR-974"),
        ("97600", "FR-976"),
        ("98800", "FR-NC"),
        ("98000", None),  # Monaco
        ("00000", None),
        ("7500", None),
        ("ABCDE", None),
        (None, None),
    ],
)
def test_french_region_from_postal_code(postal: str | None, region: str | None) -> None:
    assert norm.french_region_from_postal_code(postal) == region


def test_every_metropolitan_department_has_a_region() -> None:
    regions = {norm.french_region_from_postal_code(f"{n:02d}100") for n in range(1, 96) if n != 20}
    assert None not in regions
    assert len(regions) == 12  # the 12 metropolitan regions besides Corsica


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("FR-IDF", "Île-de-France"),
        ("fr-ara", "Auvergne-Rhône-Alpes"),
        ("FR-20R", "Corse"),
        ("FR-974", "La Réunion"),
        ("Somewhere", "Somewhere"),
        ("", ""),
        (None, ""),
    ],
)
def test_region_label(code: str | None, label: str) -> None:
    assert norm.region_label(code) == label


# --------------------------------------------------------------------------- search key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Société Générale S.A.", "societe generale s a"),
        ("  L'Oréal — Paris ", "l oreal paris"),
        ("ÉLODIE   Dupont-Durand", "elodie dupont durand"),
        ("Straße", "strasse"),
        ("Ærø Œuvre", "ærø œuvre"),
        ("ﬁnance", "finance"),
        ("", ""),
    ],
)
def test_search_key(raw: str, expected: str) -> None:
    assert norm.search_key(raw) == expected


# --------------------------------------------------------------------------- properties

TEXT_NORMALISERS: list[Callable[[str], object]] = [
    norm.tidy_text,
    norm.person_name,
    norm.organisation_name,
    norm.phone,
    norm.country,
    norm.email,
    norm.website,
    norm.domain,
    norm.siren,
    norm.siret,
    norm.vat,
    norm.naf_code,
    lambda raw: norm.postal_code(raw, "FR"),
    lambda raw: norm.postal_code(raw, "GB"),
    lambda raw: norm.tidy_text(raw, max_length=255),
]


@BOUNDED
@given(any_text)
def test_normalisers_only_raise_normalisation_error(raw: str) -> None:
    for normaliser in TEXT_NORMALISERS:
        try:
            normaliser(raw)
        except NormalisationError as error:
            assert error.message
            assert str(error) == error.message
            assert len(error.message) < 400


@BOUNDED
@given(any_text)
def test_total_helpers_never_raise(raw: str) -> None:
    assert isinstance(norm.search_key(raw), str)
    region = norm.french_region_from_postal_code(raw)
    assert region is None or region.startswith("FR-")
    assert isinstance(norm.region_label(raw), str)
    assert isinstance(norm.country_label(raw, "fr"), str)


phone_like = st.text(alphabet="0123456789 +().-", min_size=1, max_size=30)


@BOUNDED
@given(st.one_of(phone_like, any_text), st.sampled_from(["FR", "GB", "DE", "US", None]))
def test_phone_output_is_e164(raw: str, region: str | None) -> None:
    try:
        result = norm.phone(raw, region=region)
    except NormalisationError:
        return
    if result is not None:
        assert re.fullmatch(r"\+\d{8,15}", result)
        assert norm.phone(result, region=region) == result


@BOUNDED
@given(st.from_regex(r"0[1-9]( ?[0-9]{2}){4}", fullmatch=True))
def test_french_numbers_are_e164(raw: str) -> None:
    try:
        result = norm.phone(raw)
    except NormalisationError:
        return  # some ranges are unallocated
    assert result is not None
    assert re.fullmatch(r"\+\d{8,15}", result)


@BOUNDED
@given(any_text)
def test_search_key_is_idempotent(raw: str) -> None:
    key = norm.search_key(raw)
    assert norm.search_key(key) == key
    assert key == key.strip()
    assert "  " not in key


@BOUNDED
@given(any_text)
def test_tidy_text_is_idempotent(raw: str) -> None:
    tidy = norm.tidy_text(raw)
    if tidy is None:
        return
    assert norm.tidy_text(tidy) == tidy
    assert tidy == tidy.strip()
    assert "  " not in tidy
    assert not any(c in tidy for c in "\t\n\r\x00\u00a0")


@BOUNDED
@given(any_text)
def test_names_are_stable(raw: str) -> None:
    for normaliser in (norm.person_name, norm.organisation_name):
        try:
            name = normaliser(raw)
        except NormalisationError:
            continue
        if name is not None:
            assert normaliser(name) == name


@BOUNDED
@given(st.from_regex(r"[0-9]{8}", fullmatch=True))
def test_siren_check_digit_is_computed(prefix: str) -> None:
    from stdnum import luhn

    number = prefix + luhn.calc_check_digit(prefix)
    assert norm.siren(number) == number
    wrong = prefix + str((int(number[-1]) + 1) % 10)
    with pytest.raises(NormalisationError):
        norm.siren(wrong)


@BOUNDED
@given(any_text)
def test_email_results_are_lowercase_and_stable(raw: str) -> None:
    try:
        result = norm.email(raw)
    except NormalisationError:
        return
    if result is not None:
        assert result == result.lower()
        assert norm.email(result) == result


def test_country_aliases_point_at_real_countries() -> None:
    import pycountry

    for key in norm._COUNTRY_ALIASES:
        code = norm.country(key)
        assert code is not None
        assert pycountry.countries.get(alpha_2=code) is not None, key

"""Column suggestions from French and English headers, and Salesforce/HubSpot exports
recognised by their headers; organisations and contacts as registered entities."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cible.core.normalisers import search_key
from cible.people.normalise import CONTACT_SPECS, ORGANISATION_SPECS
from cible.quality.imports import registry
from cible.quality.imports.mapping import detect_preset, preset_mapping, suggest
from cible.quality.imports.registry import ImportableEntity


def _entity(name: str) -> ImportableEntity:
    entity = registry.get(name)
    assert entity is not None
    return entity


@pytest.fixture
def organisations() -> ImportableEntity:
    return _entity("organisations")


@pytest.fixture
def contacts() -> ImportableEntity:
    return _entity("contacts")


# --- the registered entities ------------------------------------------------------------------


def test_organisations_are_registered_with_their_fields_keys_and_presets(
    organisations: ImportableEntity,
) -> None:
    names = [f.name for f in organisations.fields]
    assert names == [*ORGANISATION_SPECS, "external_id", "owner_email"]
    assert [f.name for f in organisations.fields if f.link] == ["external_id", "owner_email"]
    assert [f.name for f in organisations.fields if f.required] == ["legal_name"]
    assert [(k.name, k.field) for k in organisations.keys] == [
        ("external_id", "external_id"),
        ("siren", "siren"),
        ("siret", "siret"),
        ("domain", "domain"),
    ]
    assert [p.name for p in organisations.presets] == ["salesforce", "hubspot"]
    assert str(organisations.field("legal_name").label) == "legal name"
    assert str(organisations.field("owner_email").label) == "owner's email"


def test_contacts_are_registered_with_their_link_fields(contacts: ImportableEntity) -> None:
    names = [f.name for f in contacts.fields]
    assert names[: len(CONTACT_SPECS)] == list(CONTACT_SPECS)
    assert [f.name for f in contacts.fields if f.link] == [
        "external_id",
        "organisation_external_id",
        "organisation_siren",
        "organisation_domain",
        "organisation_name",
        "owner_email",
    ]
    assert [(k.name, k.field) for k in contacts.keys] == [
        ("external_id", "external_id"),
        ("email", "email"),
    ]
    assert [f.name for f in contacts.fields if f.required] == ["last_name"]


@pytest.mark.parametrize("name", ["organisations", "contacts"])
def test_no_synonym_names_two_fields(name: str) -> None:
    owners: dict[str, str] = {}
    for field in _entity(name).fields:
        for synonym in field.synonyms:
            key = search_key(synonym)
            assert owners.setdefault(key, field.name) == field.name, (synonym, owners[key])


@pytest.mark.parametrize("name", ["organisations", "contacts"])
def test_every_preset_column_names_a_field(name: str) -> None:
    entity = _entity(name)
    fields = {f.name for f in entity.fields}
    for preset in entity.presets:
        assert set(preset.columns.values()) <= fields, preset.name


# --- suggestions ------------------------------------------------------------------------------


def test_french_organisation_headers(organisations: ImportableEntity) -> None:
    headers = {
        "Raison sociale": "legal_name",
        "Enseigne": "trade_name",
        "SIREN": "siren",
        "N° SIRET": "siret",
        "N° TVA intracommunautaire": "vat_number",
        "Site internet": "website",
        "Tél.": "phone",
        "Adresse": "street",
        "CP": "postal_code",
        "Ville": "city",
        "Pays": "country",
        "Code APE": "naf_code",
        "Effectif": "headcount",
        "Chiffre d'affaires (k€)": "annual_revenue",
        "Nb commerciaux": "sales_team_size",
        "Commentaires": "description",
        "Date de dernière vérification": "last_verified_at",
        "Réf. client": "external_id",
        "Email du commercial": "owner_email",
        "Secteur préféré du patron": None,
    }
    assert suggest(organisations, list(headers)) == headers


def test_english_organisation_headers(organisations: ImportableEntity) -> None:
    headers = {
        "Company Name": "legal_name",
        "Trade name": "trade_name",
        "VAT number": "vat_number",
        "Website": "website",
        "Phone": "phone",
        "Street address": "street",
        "ZIP": "postal_code",
        "Town": "city",
        "Country code": "country",
        "NACE code": "naf_code",
        "Number of employees": "headcount",
        "Turnover": "annual_revenue",
        "Currency": "currency",
        "Status": "status",
        "Tier": "tier",
        "Lead source": "source",
        "Customer ID": "external_id",
        "Owner email": "owner_email",
        "Favourite colour": None,
    }
    assert suggest(organisations, list(headers)) == headers


def test_contact_headers_in_both_languages(contacts: ImportableEntity) -> None:
    french = {
        "Prénom": "first_name",
        "Nom": "last_name",
        "Adresse e-mail": "email",
        "Téléphone": "phone",
        "Portable": "mobile",
        "Fonction": "job_title",
        "Service": "function",
        "Langue": "language",
        "Profil LinkedIn": "linkedin_url",
        "Désinscrit": "email_opt_out",
        "Bloctel": "phone_opt_out",
        "A quitté l'entreprise": "has_left",
        "Société": "organisation_name",
        "SIREN": "organisation_siren",
        "Site web": "organisation_domain",
        "ID société": "organisation_external_id",
    }
    assert suggest(contacts, list(french)) == french
    english = {
        "First name": "first_name",
        "Surname": "last_name",
        "E-mail": "email",
        "Other email": "secondary_email",
        "Mobile phone": "mobile",
        "Job title": "job_title",
        "Seniority": "seniority",
        "Lifecycle stage": "lifecycle_stage",
        "Company": "organisation_name",
        "Company website": "organisation_domain",
        "Company ID": "organisation_external_id",
        "Owner e-mail": "owner_email",
    }
    assert suggest(contacts, list(english)) == english


def test_typos_and_plurals_are_forgiven_but_siret_is_not_siren(
    organisations: ImportableEntity,
) -> None:
    headers = {
        "Raison socialle": "legal_name",
        "Téléphones": "phone",
        "Code postale": "postal_code",
        "Villes": "city",
        "SIRET société": "siret",
        "Numéro de TVA intracom": "vat_number",
        "Code NAF 2008": "naf_code",
    }
    assert suggest(organisations, list(headers)) == headers
    assert suggest(organisations, ["Siret du client"]) == {"Siret du client": "siret"}
    assert suggest(organisations, ["N° SIREM"]) == {"N° SIREM": None}


def test_a_field_goes_to_one_column_only(contacts: ImportableEntity) -> None:
    mapping = suggest(contacts, ["Email", "E-mail", "Adresse mail pro", "Société", "Nom société"])
    assert mapping == {
        "Email": "email",
        "E-mail": None,
        "Adresse mail pro": None,
        "Société": "organisation_name",
        "Nom société": None,
    }


def test_short_headers_match_exactly_only(organisations: ImportableEntity) -> None:
    assert suggest(organisations, ["CP", "CA", "Tel", "ID", "Cp2", "Ta"]) == {
        "CP": "postal_code",
        "CA": "annual_revenue",
        "Tel": "phone",
        "ID": "external_id",
        "Cp2": None,
        "Ta": None,
    }


_ALL_HEADERS = sorted(
    {s for name in ("organisations", "contacts") for f in _entity(name).fields for s in f.synonyms}
    | {"Colonne 1", "Divers", "Notes internes", "Email 2", "Téléphone 2", "Date"}
)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(["organisations", "contacts"]),
    headers=st.lists(st.sampled_from(_ALL_HEADERS), min_size=1, max_size=25, unique=True),
)
def test_never_two_columns_for_one_field(name: str, headers: list[str]) -> None:
    entity = _entity(name)
    mapping = suggest(entity, headers)
    assert list(mapping) == headers
    chosen = [field for field in mapping.values() if field is not None]
    assert len(chosen) == len(set(chosen))
    assert set(chosen) <= {f.name for f in entity.fields}


# --- presets ------------------------------------------------------------------------------------

SALESFORCE_ACCOUNTS = [
    "Account ID",
    "Account Name",
    "Account Owner",
    "Type",
    "Industry",
    "Phone",
    "Website",
    "Billing Street",
    "Billing City",
    "Billing State/Province",
    "Billing Zip/Postal Code",
    "Billing Country",
    "Employees",
    "Annual Revenue",
    "Created Date",
]
SALESFORCE_ACCOUNTS_FR = [
    "ID du compte",
    "Nom du compte",
    "Propriétaire du compte",
    "Téléphone",
    "Site Web",
    "Ville de facturation",
    "Code postal de facturation",
    "Pays de facturation",
    "Employés",
]
DATA_LOADER_ACCOUNTS = [
    "Id",
    "Name",
    "BillingStreet",
    "BillingCity",
    "BillingPostalCode",
    "BillingCountry",
    "Phone",
    "Website",
    "NumberOfEmployees",
    "AnnualRevenue",
]
HUBSPOT_COMPANIES = [
    "Record ID",
    "Company name",
    "Company owner",
    "Create Date",
    "Phone Number",
    "Last Activity Date",
    "City",
    "Country/Region",
    "Industry",
    "Company Domain Name",
    "Number of Employees",
    "Annual Revenue",
]
SALESFORCE_CONTACTS = [
    "Contact ID",
    "First Name",
    "Last Name",
    "Title",
    "Email",
    "Phone",
    "Mobile",
    "Account Name",
    "Account ID",
    "Mailing Country",
    "Contact Owner",
    "Email Opt Out",
    "Do Not Call",
]
HUBSPOT_CONTACTS = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Job Title",
    "Associated Company",
    "Contact owner",
    "Create Date",
]


@pytest.mark.parametrize(
    ("entity", "headers", "preset"),
    [
        ("organisations", SALESFORCE_ACCOUNTS, "salesforce"),
        ("organisations", SALESFORCE_ACCOUNTS_FR, "salesforce"),
        ("organisations", DATA_LOADER_ACCOUNTS, "salesforce"),
        ("organisations", HUBSPOT_COMPANIES, "hubspot"),
        ("contacts", SALESFORCE_CONTACTS, "salesforce"),
        ("contacts", HUBSPOT_CONTACTS, "hubspot"),
    ],
)
def test_exports_are_recognised_by_their_headers(
    entity: str, headers: list[str], preset: str
) -> None:
    found = detect_preset(_entity(entity), headers)
    assert found is not None and found.name == preset


@pytest.mark.parametrize(
    ("entity", "headers"),
    [
        ("organisations", ["Raison sociale", "SIREN", "Téléphone", "Ville", "Code postal"]),
        ("organisations", ["Company name", "Website", "Phone", "City", "Annual Revenue"]),
        ("contacts", ["First Name", "Last Name", "Email", "Phone", "Title"]),
        ("contacts", ["Prénom", "Nom", "E-mail", "Téléphone"]),
    ],
)
def test_a_home_made_file_is_no_export(entity: str, headers: list[str]) -> None:
    assert detect_preset(_entity(entity), headers) is None


def test_salesforce_accounts_map_through_the_preset(organisations: ImportableEntity) -> None:
    expected = {
        "Account ID": "external_id",
        "Account Name": "legal_name",
        "Phone": "phone",
        "Website": "website",
        "Billing Street": "street",
        "Billing City": "city",
        "Billing Zip/Postal Code": "postal_code",
        "Billing Country": "country",
        "Employees": "headcount",
        "Annual Revenue": "annual_revenue",
    }
    preset = detect_preset(organisations, SALESFORCE_ACCOUNTS)
    assert preset is not None
    mapping = preset_mapping(preset, SALESFORCE_ACCOUNTS)
    assert {c: f for c, f in mapping.items() if f} == expected
    # owners are names in these exports, not emails: left for the person to choose
    assert suggest(organisations, SALESFORCE_ACCOUNTS)["Account Owner"] is None
    assert {c: f for c, f in suggest(organisations, SALESFORCE_ACCOUNTS).items() if f} == expected


def test_hubspot_exports_map_through_the_preset(
    organisations: ImportableEntity, contacts: ImportableEntity
) -> None:
    companies = suggest(organisations, HUBSPOT_COMPANIES)
    assert companies["Record ID"] == "external_id"
    assert companies["Company Domain Name"] == "domain"
    assert companies["Country/Region"] == "country"
    assert companies["Company owner"] is None
    people = suggest(contacts, HUBSPOT_CONTACTS)
    assert (people["Associated Company"], people["Mobile Phone Number"]) == (
        "organisation_name",
        "mobile",
    )
    assert people["Contact owner"] is None


def test_preset_headers_match_whatever_their_case(organisations: ImportableEntity) -> None:
    headers: list[Any] = ["ACCOUNT ID", "account name", "billing city", "Billing country"]
    preset = detect_preset(organisations, headers)
    assert preset is not None
    assert preset_mapping(preset, headers) == {
        "ACCOUNT ID": "external_id",
        "account name": "legal_name",
        "billing city": "city",
        "Billing country": "country",
    }

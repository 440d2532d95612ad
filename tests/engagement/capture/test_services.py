"""`submit`: a person who fills in the form becomes one contact, one organisation, one
interaction and one campaign member — and the second time, the same ones."""

from __future__ import annotations

from typing import Any

from cible.engagement.campaigns.models import CampaignMember
from cible.engagement.capture import guard, services
from cible.engagement.capture.models import FormSubmission, SubmissionOutcome
from cible.engagement.interactions.models import Interaction
from cible.people.models import Contact, Organisation
from cible.quality.privacy.models import ConsentEvent
from tests.engagement.capture.conftest import post


def send(form: Any, data: dict[str, Any], *, sender: str = "203.0.113.7", utm: Any = None) -> Any:
    return services.submit(
        form=form,
        data=data,
        utm=utm or {},
        sender=sender,
        page_url="https://www.example.com/livre-blanc",
        language="en",
    )


def test_an_accepted_submission_creates_one_of_each(webform: Any, campaign: Any) -> None:
    result = send(
        webform,
        post(
            webform,
            email=" Paul.Martin@Globex.FR ",
            first_name="paul",
            last_name="MARTIN",
            company="Globex",
            message="Nous cherchons un CRM.",
        ),
        utm={"utm_source": "linkedin", "utm_medium": "ads", "utm_campaign": "lb-crm", "x": "y"},
    )

    assert result.status == 200
    assert result.message == "Thanks! Your white paper is on its way."
    submission = result.submission
    assert submission.outcome == SubmissionOutcome.ACCEPTED
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.last_name) == (
        "paul.martin@globex.fr",
        "Paul",
        "Martin",
    )
    assert contact.owner is None  # nobody's until routing assigns it
    organisation = Organisation.objects.get()
    assert (organisation.legal_name, organisation.domain) == ("Globex", "globex.fr")
    assert contact.organisation == organisation
    interaction = Interaction.objects.get()
    assert interaction.kind == "content_download"
    assert interaction.campaign == campaign
    assert interaction.contact == contact
    assert interaction.properties["utm"] == {
        "utm_source": "linkedin",
        "utm_medium": "ads",
        "utm_campaign": "lb-crm",
    }
    assert interaction.properties["page"] == "https://www.example.com/livre-blanc"
    assert interaction.notes == "Nous cherchons un CRM."
    member = CampaignMember.objects.get()
    assert (member.contact, member.status) == (contact, "responded")
    assert (submission.contact, submission.organisation, submission.interaction) == (
        contact,
        organisation,
        interaction,
    )
    assert submission.created_contact and submission.created_organisation
    assert submission.consent_given and submission.consent_text == "I agree to receive emails."
    consent = ConsentEvent.objects.get()
    assert (consent.status, consent.source, consent.proof_text) == (
        "granted",
        "form",
        "I agree to receive emails.",
    )
    contact.refresh_from_db()
    assert contact.email_consent == "granted"


def test_the_same_email_again_matches_without_duplicates(webform: Any) -> None:
    send(
        webform, post(webform, email="paul.martin@globex.fr", last_name="Martin", company="Globex")
    )
    again = send(
        webform,
        post(webform, email="  PAUL.Martin@globex.fr", phone="01 23 45 67 89", company="Globex SA"),
        sender="198.51.100.9",
    )

    assert again.submission.outcome == SubmissionOutcome.ACCEPTED
    assert not again.submission.created_contact and not again.submission.created_organisation
    assert Contact.objects.count() == 1
    assert Organisation.objects.count() == 1
    assert Interaction.objects.count() == 2
    assert CampaignMember.objects.count() == 1
    contact = Contact.objects.get()
    assert contact.phone == "+33123456789"  # an empty field filled in


def test_a_match_never_overwrites_what_sales_typed(webform: Any, jeanne: Any, acme: Any) -> None:
    send(
        webform,
        post(
            webform,
            email="Jeanne.Dupont@acme.fr",
            first_name="Jeannette",
            last_name="Durand",
            phone="06 12 34 56 78",
        ),
    )

    jeanne.refresh_from_db()
    assert (jeanne.first_name, jeanne.last_name, jeanne.job_title) == (
        "Jeanne",
        "Dupont",
        "Directrice commerciale",
    )
    assert jeanne.phone == "+33612345678"
    assert jeanne.owner.username == "alice"
    submission = FormSubmission.objects.get()
    assert submission.contact == jeanne and submission.organisation == acme
    assert Contact.objects.count() == 1


def test_a_known_company_domain_is_matched(webform: Any, acme: Any) -> None:
    result = send(
        webform, post(webform, email="marc@acme.fr", last_name="Petit", company="ACME SAS")
    )

    assert Organisation.objects.count() == 1
    assert result.submission.organisation == acme
    assert result.submission.reason.startswith("contact: new; organisation: domain acme.fr")
    assert Contact.objects.get(email="marc@acme.fr").organisation == acme


def test_a_free_mail_domain_is_not_a_company(webform: Any) -> None:
    free = Organisation.objects.create(legal_name="Gmail", name_key="gmail", domain="gmail.com")

    result = send(webform, post(webform, email="luc.bernard@gmail.com", last_name="Bernard"))

    contact = result.submission.contact
    assert contact.organisation is None
    assert result.submission.organisation is None
    assert Organisation.objects.get() == free

    with_company = send(
        webform,
        post(webform, email="anne@gmail.com", last_name="Roy", company="Initech"),
        sender="192.0.2.1",
    )
    created = with_company.submission.organisation
    assert (created.legal_name, created.domain) == ("Initech", "")


def test_the_honeypot_is_spam_answered_as_a_success(webform: Any) -> None:
    result = send(
        webform, post(webform, email="bot@spam.example", last_name="Bot", homepage="http://x")
    )

    assert result.status == 200
    assert result.message == "Thanks! Your white paper is on its way."
    assert result.submission.outcome == SubmissionOutcome.SPAM
    assert result.submission.reason == "hidden field filled in"
    assert result.submission.data["email"] == "bot@spam.example"
    assert not Contact.objects.exists() and not Interaction.objects.exists()


def test_too_fast_is_spam(webform: Any) -> None:
    data = post(webform, email="quick@spam.example", last_name="Bot")
    data["_ts"] = guard.issue_token(webform.key)  # shown this very instant

    result = send(webform, data)

    assert result.status == 200
    assert result.submission.outcome == SubmissionOutcome.SPAM
    assert result.submission.reason.startswith("filled in 0.")
    assert not Contact.objects.exists()


def test_no_token_or_another_forms_token_is_spam(webform: Any) -> None:
    missing = send(webform, {"email": "a@b.example", "consent": "on"})
    other = post(webform, email="c@d.example")
    other["_ts"] = guard.issue_token("another-form", now=0)
    forged = send(webform, other, sender="192.0.2.50")

    assert missing.submission.outcome == forged.submission.outcome == SubmissionOutcome.SPAM
    assert missing.submission.reason.startswith("no form token")
    assert forged.submission.reason == "form token of another form"


def test_a_sender_is_throttled_after_five_submissions(webform: Any) -> None:
    for n in range(5):
        assert send(webform, post(webform, email=f"p{n}@globex.fr", last_name="P")).status == 200

    sixth = send(webform, post(webform, email="p6@globex.fr", last_name="P"))
    elsewhere = send(
        webform, post(webform, email="p7@globex.fr", last_name="P"), sender="192.0.2.99"
    )

    assert sixth.status == 429
    assert "try again in 10 minutes" in sixth.message
    assert sixth.submission.outcome == SubmissionOutcome.THROTTLED
    assert sixth.submission.data["email"] == "p6@globex.fr"
    assert elsewhere.status == 200
    assert Contact.objects.count() == 6


def test_a_double_click_is_one_submission(webform: Any) -> None:
    data = post(webform, email="paul@globex.fr", last_name="Martin")

    first = send(webform, data)
    second = send(webform, dict(data))

    assert second.replayed and second.submission == first.submission
    assert FormSubmission.objects.count() == 1
    assert Interaction.objects.count() == 1


def test_missing_consent_is_refused_with_the_reason(webform: Any) -> None:
    data = post(webform, email="paul@globex.fr", last_name="Martin")
    del data["consent"]

    result = send(webform, data)

    assert result.status == 422
    assert result.submission.outcome == SubmissionOutcome.INVALID
    assert result.submission.reason == "consent: your consent is required to send this form"
    assert [e.field for e in result.errors] == ["consent"]
    assert not Contact.objects.exists()


def test_bad_fields_are_named_and_the_data_kept(webform: Any) -> None:
    result = send(
        webform,
        post(webform, email="not an email", phone="12", message="x" * 6000, company=["a list"]),
    )

    assert result.status == 422
    problems = {e.field: e.message for e in result.errors}
    assert set(problems) == {"email", "phone", "message", "company"}
    assert "6,000 characters, at most 5,000" in problems["message"]
    assert problems["company"] == "must be text"
    stored = result.submission
    assert stored.outcome == SubmissionOutcome.INVALID
    assert stored.data["email"] == "not an email"
    assert len(stored.data["message"]) == 6000


def test_an_opted_out_contact_stays_opted_out(webform: Any, jeanne: Any) -> None:
    Contact.objects.filter(pk=jeanne.pk).update(email_opt_out=True, email_consent="withdrawn")

    result = send(webform, post(webform, email="jeanne.dupont@acme.fr", last_name="Dupont"))

    assert result.submission.outcome == SubmissionOutcome.ACCEPTED
    assert "consent not recorded: the contact opted out" in result.submission.reason
    jeanne.refresh_from_db()
    assert jeanne.email_opt_out is True and jeanne.email_consent == "withdrawn"
    assert not ConsentEvent.objects.filter(status="granted").exists()


def test_a_closed_form_keeps_what_was_sent(webform: Any) -> None:
    webform.is_active = False
    webform.save()

    result = send(webform, post(webform, email="late@globex.fr", last_name="Late"))

    assert result.status == 410
    assert result.submission.outcome == SubmissionOutcome.INVALID
    assert result.submission.reason == "form closed"
    assert not Contact.objects.exists()


def test_a_form_without_a_name_field_names_the_contact_after_the_email(
    cast: Any, campaign: Any
) -> None:
    from cible.core.audit import Channel

    form = services.webform_create(
        actor=cast.admin,
        channel=Channel.UI,
        data={"name": "Newsletter", "fields": [{"field": "email", "required": True}]},
    )
    send(form, post(form, email="zoe@globex.fr"))
    send(form, {**post(form, email="zoe@globex.fr"), "x": 1}, sender="192.0.2.8")

    contact = Contact.objects.get()
    assert contact.last_name == "zoe"


def test_the_stand_in_name_gives_way_to_the_real_one(cast: Any, webform: Any) -> None:
    from cible.core.audit import Channel

    newsletter = services.webform_create(
        actor=cast.marketer,
        channel=Channel.UI,
        data={"name": "Newsletter", "fields": [{"field": "email", "required": True}]},
    )
    send(newsletter, post(newsletter, email="zoe@globex.fr"))
    assert Contact.objects.get().last_name == "zoe"

    send(webform, post(webform, email="zoe@globex.fr", first_name="Zoé", last_name="Lambert"))

    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Zoé", "Lambert")


def test_team_private_accounts_are_still_matched(
    team_private: Any, webform: Any, jeanne: Any
) -> None:
    result = send(webform, post(webform, email="jeanne.dupont@acme.fr"))

    assert result.submission.outcome == SubmissionOutcome.ACCEPTED
    assert result.submission.contact == jeanne
    assert Contact.objects.count() == 1


def test_a_form_whose_owner_left_keeps_submissions_until_taken_over(
    cast: Any, webform: Any
) -> None:
    from cible.core.audit import Channel

    WebForm = type(webform)
    WebForm.objects.filter(pk=webform.pk).update(owner=None)
    webform.refresh_from_db()

    refused = send(webform, post(webform, email="paul@globex.fr", last_name="Martin"))

    assert refused.status == 422
    assert refused.submission.outcome == SubmissionOutcome.INVALID
    assert "no owner in Marketing" in refused.submission.reason
    assert refused.submission.data["email"] == "paul@globex.fr"
    assert not Contact.objects.exists()

    services.webform_update(
        form=webform,
        actor=cast.admin,
        channel=Channel.UI,
        data={"name": webform.name, "fields": webform.fields, "is_active": True},
    )
    webform.refresh_from_db()
    assert webform.owner == cast.admin
    again = send(
        webform, post(webform, email="paul@globex.fr", last_name="Martin"), sender="1.2.3.4"
    )
    assert again.submission.outcome == SubmissionOutcome.ACCEPTED

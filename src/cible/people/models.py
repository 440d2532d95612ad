"""The shared customer database (SPEC C1): organisations, contacts, teams and users' profiles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from cible.core import nace
from cible.core.models import TimeStampedModel, VersionedModel
from cible.core.normalisers import region_label
from cible.core.roles import Role


class Team(TimeStampedModel):
    """A group of users with a manager, e.g. "SDR Paris" or "AE Key accounts"."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, db_index=True)
    teams = models.ManyToManyField(
        Team, verbose_name=_("teams"), blank=True, related_name="members"
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="fr"
    )
    sees_deal_amounts = models.BooleanField(
        _("may see deal amounts"),
        default=False,
        help_text=_("Grants a Marketing user the deal amounts the policy hides from Marketing."),
    )

    class Meta:
        verbose_name = _("user profile")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class CompetitorProduct(models.Model):
    """A reference list of tools a prospect may already run (seed 002: the installed CRM)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    vendor = models.CharField(_("vendor"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=50, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("installed product")
        verbose_name_plural = _("installed products")

    def __str__(self) -> str:
        return self.name


class HeadcountBand(models.TextChoices):
    B0 = "0", "0"
    B1_9 = "1-9", "1–9"
    B10_49 = "10-49", "10–49"
    B50_249 = "50-249", "50–249"
    B250_499 = "250-499", "250–499"
    B500_999 = "500-999", "500–999"
    B1000_4999 = "1000-4999", _("1,000–4,999")
    B5000 = "5000+", _("5,000+")


class SizeClass(models.TextChoices):
    """The French legal size classes (seed 002: TPE / PME / ETI / grand groupe)."""

    TPE = "tpe", _("Micro (TPE, < 10)")
    PME = "pme", _("SME (PME, 10–249)")
    ETI = "eti", _("Mid-cap (ETI, 250–4,999)")
    GE = "ge", _("Large group (≥ 5,000)")


class OrganisationStatus(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    FORMER_CUSTOMER = "former_customer", _("Former customer")
    PARTNER = "partner", _("Partner")
    CLOSED = "closed", _("Closed (ceased trading)")


class Tier(models.TextChoices):
    GOLD = "gold", _("Gold")
    SILVER = "silver", _("Silver")
    BRONZE = "bronze", _("Bronze")


class Source(models.TextChoices):
    WEBSITE = "website", _("Website")
    INBOUND_CALL = "inbound_call", _("Inbound call")
    OUTBOUND = "outbound", _("Outbound prospecting")
    EVENT = "event", _("Event or trade show")
    WEBINAR = "webinar", _("Webinar")
    REFERRAL = "referral", _("Referral")
    PARTNER = "partner", _("Partner")
    PURCHASED_LIST = "purchased_list", _("Purchased list")
    SOCIAL = "social", _("Social networks")
    ADVERTISING = "advertising", _("Advertising")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Organisation(VersionedModel):
    """An account: a company or public body Cible sells to, buys from or works with."""

    legal_name = models.CharField(_("legal name"), max_length=255)
    trade_name = models.CharField(_("trade name"), max_length=255, blank=True)
    # Lower-case, accent-free name for prefix search and sorting (normalisers.search_key).
    name_key = models.CharField(max_length=255, editable=False)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    website = models.URLField(_("website"), max_length=255, blank=True)
    domain = models.CharField(_("domain"), max_length=255, blank=True)
    phone = models.CharField(_("switchboard phone"), max_length=20, blank=True)
    street = models.CharField(_("street"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=40, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    naf_code = models.CharField(_("NAF/NACE code"), max_length=6, blank=True)
    naf_division = models.CharField(_("NACE division"), max_length=2, blank=True, editable=False)
    naf_section = models.CharField(_("sector (NACE section)"), max_length=1, blank=True)
    headcount = models.PositiveIntegerField(_("headcount"), null=True, blank=True)
    headcount_band = models.CharField(
        _("headcount band"), max_length=10, choices=HeadcountBand.choices, blank=True
    )
    size_class = models.CharField(
        _("size"), max_length=3, choices=SizeClass.choices, blank=True, editable=False
    )
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    sales_team_size = models.PositiveIntegerField(_("sales team size"), null=True, blank=True)
    installed_products = models.ManyToManyField(
        CompetitorProduct,
        verbose_name=_("installed products"),
        blank=True,
        related_name="installed_at",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    # No index of its own: `org_owner_name` (owner, name_key) serves every lookup by owner, and a
    # second one would cost every write (a million-row import maintains it row by row).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organisations",
        db_index=False,
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=OrganisationStatus.choices,
        default=OrganisationStatus.SUSPECT,
    )
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=10_000)
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [
            models.Index(fields=["name_key", "id"], name="org_name"),
            models.Index(fields=["region", "size_class", "name_key"], name="org_region_size_name"),
            models.Index(fields=["size_class", "name_key"], name="org_size_name"),
            models.Index(fields=["status", "name_key"], name="org_status_name"),
            models.Index(fields=["owner", "name_key"], name="org_owner_name"),
            models.Index(fields=["country", "region"], name="org_country_region"),
            models.Index(fields=["siren"], name="org_siren"),
            models.Index(fields=["siret"], name="org_siret"),
            models.Index(fields=["domain"], name="org_domain"),
            models.Index(fields=["phone"], name="org_phone"),
            models.Index(fields=["postal_code"], name="org_postal_code"),
            models.Index(fields=["city"], name="org_city"),
            models.Index(fields=["naf_section", "naf_division"], name="org_sector"),
            # Sector and status are combined in most targets (seed 002): a count over both must
            # not fetch a hundred thousand rows to test the second condition.
            models.Index(fields=["naf_section", "status"], name="org_sector_status"),
            models.Index(fields=["naf_code"], name="org_naf"),
            models.Index(fields=["headcount"], name="org_headcount"),
            models.Index(fields=["sales_team_size"], name="org_sales_team"),
            models.Index(fields=["tier"], name="org_tier"),
            models.Index(fields=["source"], name="org_source"),
            models.Index(fields=["last_verified_at"], name="org_last_verified"),
            models.Index(fields=["created_at"], name="org_created"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.trade_name or self.legal_name

    def sector_label(self, language: str = "fr") -> str:
        return nace.sector_label(self.naf_code, language) if self.naf_code else ""

    @property
    def size_short(self) -> str:
        """TPE / PME / ETI / GE: the size class as French teams say it, for narrow columns."""
        return self.size_class.upper() if self.size_class else ""

    @property
    def region_label(self) -> str:
        return region_label(self.region) if self.region else ""


class ContactFunction(models.TextChoices):
    GENERAL_MANAGEMENT = "general_management", _("General management")
    SALES = "sales", _("Sales")
    MARKETING = "marketing", _("Marketing")
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    IT = "it", _("IT")
    FINANCE = "finance", _("Finance")
    HR = "hr", _("Human resources")
    OPERATIONS = "operations", _("Operations")
    PURCHASING = "purchasing", _("Purchasing")
    LEGAL = "legal", _("Legal")
    OTHER = "other", _("Other")


class Seniority(models.TextChoices):
    EXECUTIVE = "executive", _("Executive (C-level, owner)")
    DIRECTOR = "director", _("Director / VP")
    MANAGER = "manager", _("Manager")
    INDIVIDUAL = "individual", _("Individual contributor")


class ContactBuyingRole(models.TextChoices):
    """The part a contact usually plays when their organisation buys (SPEC C9's vocabulary);
    a deal's buying committee starts from it. Blank: not known."""

    DECISION_MAKER = "decision_maker", _("Decision maker")
    ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
    INFLUENCER = "influencer", _("Influencer")
    RECOMMENDER = "recommender", _("Recommender")
    EVALUATOR = "evaluator", _("Evaluator / researcher")
    USER = "user", _("User")
    PURCHASING = "purchasing", _("Purchasing")
    LEGAL = "legal", _("Legal")


class Consent(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LifecycleStage(models.TextChoices):
    """Seed 004 §2: the shared stages of a lead, from first sight to customer."""

    SUSPECT = "suspect", _("Suspect")
    PROSPECT = "prospect", _("Prospect")
    MQL = "mql", _("Marketing qualified lead (MQL)")
    SAL = "sal", _("Sales accepted lead (SAL)")
    SQL = "sql", _("Sales qualified lead (SQL)")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")
    RECYCLED = "recycled", _("Recycled")
    DISQUALIFIED = "disqualified", _("Disqualified")


class Contact(VersionedModel):
    """A person at an organisation (or on their own, until matched to one)."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    name_key = models.CharField(max_length=255, editable=False)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    email_key = models.CharField(max_length=254, blank=True, editable=False)
    secondary_email = models.EmailField(_("other email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    function = models.CharField(
        _("function"), max_length=30, choices=ContactFunction.choices, blank=True
    )
    seniority = models.CharField(
        _("seniority"), max_length=20, choices=Seniority.choices, blank=True
    )
    buying_role = models.CharField(
        _("buying role"),
        max_length=20,
        choices=ContactBuyingRole.choices,
        blank=True,
        default="",
    )
    # Neither this nor `owner` has an index of its own: `contact_org_name` and
    # `contact_owner_name` lead with them and serve every lookup (see Organisation.owner).
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        db_index=False,
    )
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    language = models.CharField(_("language"), max_length=5, blank=True)
    linkedin_url = models.URLField(_("LinkedIn profile"), max_length=255, blank=True)
    email_consent = models.CharField(
        _("email consent"), max_length=10, choices=Consent.choices, default=Consent.UNKNOWN
    )
    email_opt_out = models.BooleanField(_("opted out of emails"), default=False)
    phone_opt_out = models.BooleanField(_("opted out of calls"), default=False)
    opted_out_at = models.DateTimeField(_("opted out on"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        db_index=False,
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.SUSPECT,
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    has_left = models.BooleanField(_("has left the organisation"), default=False)
    email_bounced_at = models.DateTimeField(_("email bounced on"), null=True, blank=True)
    # Set by a GDPR erasure: the row stays so that counts and history keep adding up,
    # but every personal field is blanked and the record can no longer be edited.
    anonymised_at = models.DateTimeField(_("anonymised on"), null=True, blank=True)
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["name_key", "id"], name="contact_name"),
            models.Index(fields=["email_key"], name="contact_email"),
            models.Index(fields=["phone"], name="contact_phone"),
            models.Index(fields=["mobile"], name="contact_mobile"),
            models.Index(fields=["organisation", "name_key"], name="contact_org_name"),
            models.Index(fields=["owner", "name_key"], name="contact_owner_name"),
            models.Index(fields=["lifecycle_stage", "name_key"], name="contact_stage_name"),
            models.Index(fields=["function", "seniority"], name="contact_function"),
            models.Index(fields=["last_verified_at"], name="contact_last_verified"),
            models.Index(fields=["created_at"], name="contact_created"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        if self.anonymised_at is not None:  # the stored name is language-neutral: say it here
            return gettext("Anonymised contact #%(id)s") % {"id": self.pk}
        return f"{self.first_name} {self.last_name}".strip()

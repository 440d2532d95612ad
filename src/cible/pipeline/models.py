"""Opportunities: the deals that turn accounts into customers (SPEC C8, seed 003)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cible.core.models import VersionedModel
from cible.people.models import CompetitorProduct, Organisation


class OpportunityType(models.TextChoices):
    NEW_BUSINESS = "new_business", _("New business")
    UPSELL = "upsell", _("Upsell")
    CROSS_SELL = "cross_sell", _("Cross-sell")
    RENEWAL = "renewal", _("Renewal")


class Stage(models.TextChoices):
    """Seed 003's seven steps: 1–2 belong to the SDR/IR, 3–6 to the AE, 7 to Customer Success."""

    PROSPECTING = "prospecting", _("1. Prospecting")
    QUALIFICATION = "qualification", _("2. Qualification")
    DISCOVERY = "discovery", _("3. Discovery")
    DEMONSTRATION = "demonstration", _("4. Demonstration")
    PROPOSAL = "proposal", _("5. Proposal")
    NEGOTIATION = "negotiation", _("6. Negotiation")
    WON = "won", _("7. Won")
    LOST = "lost", _("Lost")


OPEN_STAGES = [s for s in Stage if s not in (Stage.WON, Stage.LOST)]
DEFAULT_PROBABILITY = {
    Stage.PROSPECTING: 5,
    Stage.QUALIFICATION: 10,
    Stage.DISCOVERY: 20,
    Stage.DEMONSTRATION: 40,
    Stage.PROPOSAL: 60,
    Stage.NEGOTIATION: 80,
    Stage.WON: 100,
    Stage.LOST: 0,
}


class LostReason(models.TextChoices):
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Went with a competitor")
    NO_DECISION = "no_decision", _("No decision / status quo")
    NO_BUDGET = "no_budget", _("No budget")
    PRODUCT_FIT = "product_fit", _("Product does not fit")
    TIMING = "timing", _("Bad timing")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    OTHER = "other", _("Other")


class Opportunity(VersionedModel):
    name = models.CharField(_("name"), max_length=255)
    name_key = models.CharField(max_length=255, editable=False, default="")
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    type = models.CharField(
        _("type"),
        max_length=20,
        choices=OpportunityType.choices,
        default=OpportunityType.NEW_BUSINESS,
    )
    one_time_amount = models.DecimalField(
        _("one-time amount"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    recurring_amount = models.DecimalField(
        _("monthly recurring amount"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.PROSPECTING
    )
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=5)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    lost_reason = models.CharField(
        _("lost reason"), max_length=20, choices=LostReason.choices, blank=True
    )
    lost_reason_detail = models.CharField(_("lost reason detail"), max_length=500, blank=True)
    competitors = models.ManyToManyField(
        CompetitorProduct, verbose_name=_("competitors"), blank=True, related_name="opportunities"
    )
    description = models.TextField(_("description"), blank=True, max_length=10_000)
    # The lead this deal was converted from (pipeline.conversion); closing the deal moves it.
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )

    access_kind = "pipeline"

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["stage", "expected_close_date"], name="opp_stage_close"),
            models.Index(fields=["owner", "stage"], name="opp_owner_stage"),
            models.Index(fields=["organisation", "stage"], name="opp_org_stage"),
            models.Index(fields=["closed_on"], name="opp_closed"),
            models.Index(fields=["created_at"], name="opp_created"),
            models.Index(fields=["type"], name="opp_type"),
            models.Index(fields=["name_key", "id"], name="opp_name"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="opp_probability_max"),
            models.CheckConstraint(
                condition=Q(one_time_amount__gte=0) & Q(recurring_amount__gte=0),
                name="opp_amounts_positive",
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=["won", "lost"]) | Q(closed_on__isnull=False),
                name="opp_closed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.stage in (Stage.WON, Stage.LOST)

    @property
    def annual_value(self) -> Decimal:
        """First-year value: one-time amount plus twelve months of recurring revenue."""
        return self.one_time_amount + 12 * self.recurring_amount

"""The roles people play in a B2B revenue team (seed 003: SDR/IR, AE, CS; seed 004: Marketing).

Roles live in the kernel because the access policy decides by them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SDR = "sdr", _("Sales development (SDR)")
    IR = "ir", _("Inbound representative (IR)")
    AE = "ae", _("Account executive (AE)")
    CSM = "csm", _("Customer success (CSM)")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    ADMIN = "admin", _("Administrator")

"""The shared cast of the test suite (STYLE.md): every access rule has its outsider.

- Ada, an administrator;
- Sam, the sales manager of "AE Paris" (Alice and Basile's team, plus Sophie the SDR);
- Alice and Basile, AEs on "AE Paris"; Sophie, an SDR on "AE Paris";
- Olivier, an AE of another team, "AE Lyon";
- Marie, a marketer on no sales team;
- Claire, a customer success manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cible.core.roles import Role
from cible.people.services import team_create, user_create

PASSWORD = "correct horse battery staple"


@dataclass
class Cast:
    admin: Any
    manager: Any
    ae: Any
    ae2: Any
    sdr: Any
    outsider: Any
    marketer: Any
    csm: Any
    paris: Any
    lyon: Any


def make_cast() -> Cast:
    admin = user_create(
        username="ada", password=PASSWORD, role=Role.ADMIN, first_name="Ada", last_name="Admin"
    )
    manager = user_create(
        username="sam",
        password=PASSWORD,
        role=Role.SALES_MANAGER,
        first_name="Sam",
        last_name="Manager",
    )
    paris = team_create(name="AE Paris", manager=manager)
    lyon = team_create(name="AE Lyon")
    ae = user_create(
        username="alice",
        password=PASSWORD,
        role=Role.AE,
        first_name="Alice",
        last_name="Martin",
        teams=[paris],
    )
    ae2 = user_create(
        username="basile",
        password=PASSWORD,
        role=Role.AE,
        first_name="Basile",
        last_name="Durand",
        teams=[paris],
    )
    sdr = user_create(
        username="sophie",
        password=PASSWORD,
        role=Role.SDR,
        first_name="Sophie",
        last_name="Leroy",
        teams=[paris],
    )
    outsider = user_create(
        username="olivier",
        password=PASSWORD,
        role=Role.AE,
        first_name="Olivier",
        last_name="Roux",
        teams=[lyon],
    )
    marketer = user_create(
        username="marie",
        password=PASSWORD,
        role=Role.MARKETING,
        first_name="Marie",
        last_name="Petit",
        language="en",
    )
    csm = user_create(
        username="claire", password=PASSWORD, role=Role.CSM, first_name="Claire", last_name="Moreau"
    )
    return Cast(admin, manager, ae, ae2, sdr, outsider, marketer, csm, paris, lyon)

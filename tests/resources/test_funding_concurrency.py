"""Award decisions racing for one small pool (PostgreSQL: real row locks). However many
funders click at once, the pool's allocated money never passes its amount."""

from __future__ import annotations

import os
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from sanlian.core.roles import Role
from sanlian.resources.models import Application, ApplicationStatus, CallStatus
from sanlian.resources.services import funding as services

from ..conftest import build_world
from .factories import BudgetPoolFactory, application_to, call_of

ATTEMPTS = 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="row locks need PostgreSQL (SQLite serialises whole transactions)",
)
def test_concurrent_awards_never_overspend_the_pool() -> None:
    world = build_world()
    staff = world.users[Role.AREA_STAFF]
    # 10 awards of 30,000 against 100,000: three fit, whatever the interleaving. Calls of
    # their own, so only the pool's lock stands between them.
    pool = BudgetPoolFactory(owner=world.d1, amount=Decimal("100000.00"))
    applications = [
        application_to(
            call_of(world.d1, pool=pool, communities=[world.c1], status=CallStatus.REVIEWING),
            world.o1 if n % 2 else world.o2,
            amount=Decimal("30000.00"),
        )
        for n in range(ATTEMPTS)
    ]
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []

    def award(application: Application) -> None:
        barrier.wait()
        try:
            services.application_award(
                application=application, by=staff, amount=Decimal("30000.00"), reason="并发立项"
            )
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=award, args=(a,)) for a in applications]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pool.refresh_from_db()
    awarded = Application.objects.filter(call__pool=pool, status=ApplicationStatus.AWARDED)
    assert (
        outcomes.count("ok"),
        outcomes.count("refused"),
        pool.allocated,
        sum(a.awarded_amount for a in awarded),
    ) == (3, 7, Decimal("90000.00"), Decimal("90000.00"))

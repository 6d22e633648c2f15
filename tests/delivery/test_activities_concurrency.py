"""Sign-ups under concurrency (PostgreSQL; SQLite runs one writer at a time): many residents
at one activity at the same moment never oversell it, and the same phone twice at once is
one sign-up."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from sanlian.delivery.models import Activity, Registration
from sanlian.delivery.services import activities as services

from ..conftest import build_world
from .factories_activities import activity_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="row locks need PostgreSQL (SQLite serialises whole transactions)",
    ),
]

THREADS = 16
Outcome = tuple[str, Any]


def _race(jobs: list[Callable[[], Any]]) -> list[Outcome]:
    barrier = threading.Barrier(len(jobs), timeout=60)
    outcomes: list[Outcome] = [("error", "did not run")] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[i] = ("ok", job())
        except ValidationError as exc:
            outcomes[i] = ("refused", exc.messages)
        except Exception as exc:  # any other failure is a finding
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _signup(activity: Activity, phone: str, companions: int = 0) -> Callable[[], Any]:
    return lambda: services.registration_signup(
        activity=activity, name="居民", phone=phone, companions=companions
    )


def test_concurrent_sign_ups_never_oversell() -> None:
    activity = activity_in(build_world(), capacity=10)
    outcomes = _race([_signup(activity, f"138{i:08d}", companions=1) for i in range(THREADS)])
    activity.refresh_from_db()
    seats = sum(r.seats for r in Registration.objects.filter(activity=activity))
    assert ([k for k, _ in outcomes].count("ok"), activity.seats_taken, seats) == (5, 10, 10)


def test_the_same_phone_at_once_is_one_sign_up() -> None:
    activity = activity_in(build_world(), capacity=10)
    outcomes = _race([_signup(activity, "13800138000") for _ in range(8)])
    activity.refresh_from_db()
    assert ({k for k, _ in outcomes}, activity.seats_taken, activity.registrations.count()) == (
        {"ok"},
        1,
        1,
    )

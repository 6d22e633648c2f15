"""Bringing a retired organisation back into use (撤销有误, or work resumed)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.organizations import services
from sanlian.organizations.models import CommunityAreaPeriod, Organization, Person

from ..conftest import World

pytestmark = pytest.mark.django_db


def _retired(world: World, org: Organization, on: dt.date | None = None) -> Organization:
    services.organization_retire(
        org=org, by=world.users[Role.AREA_STAFF], on=on or timezone.localdate(), reason="撤并"
    )
    return Organization.objects.get(pk=org.pk)


def test_a_retired_team_is_in_use_again(world: World) -> None:
    _retired(world, world.t1)
    services.organization_reactivate(
        org=world.t1, by=world.users[Role.COMMUNITY_CADRE], reason="撤销有误"
    )
    t1 = Organization.objects.get(pk=world.t1.pk)
    assert (t1.is_active, t1.retired_on, t1.retired_reason) == (True, None, "")


def test_the_reactivation_is_audited_with_what_it_undid(world: World) -> None:
    _retired(world, world.t1)
    services.organization_reactivate(
        org=world.t1, by=world.users[Role.COMMUNITY_CADRE], reason="撤销有误"
    )
    entry = AuditEntry.objects.filter(object_id=str(world.t1.pk)).latest("id")
    assert entry.changes["reactivate"]["reason"] == "撤销有误"
    assert entry.changes["reactivate"]["retired_reason"] == "撤并"


def test_an_organisation_in_use_is_not_reactivated(world: World) -> None:
    with pytest.raises(ValidationError, match="无需恢复"):
        services.organization_reactivate(
            org=world.t1, by=world.users[Role.COMMUNITY_CADRE], reason="x"
        )


def test_a_reason_is_needed(world: World) -> None:
    _retired(world, world.t1)
    with pytest.raises(ValidationError, match="请填写恢复原因"):
        services.organization_reactivate(
            org=world.t1, by=world.users[Role.COMMUNITY_CADRE], reason=" "
        )


def test_outside_ones_scope_is_refused(world: World) -> None:
    services.organization_retire(
        org=world.t2, by=world.users[Role.FEDERATION_STAFF], on=timezone.localdate(), reason="撤并"
    )
    with pytest.raises(ValidationError):
        services.organization_reactivate(
            org=world.t2, by=world.users[Role.COMMUNITY_CADRE], reason="撤销有误"
        )


def test_a_community_belongs_to_its_street_again_from_today(world: World) -> None:
    for child in Organization.objects.filter(parent=world.c1.organization):
        _retired(world, child)
    Person.objects.filter(community=world.c1).update(community=world.c2)
    CommunityAreaPeriod.objects.filter(community=world.c1).update(valid_from=dt.date(2025, 1, 1))
    _retired(world, world.c1.organization, dt.date(2026, 1, 1))
    services.organization_reactivate(
        org=world.c1.organization, by=world.users[Role.AREA_STAFF], reason="恢复建制"
    )
    current = CommunityAreaPeriod.objects.current().get(community=world.c1)
    assert (current.street_id, current.valid_from) == (world.s1.pk, timezone.localdate())


def test_the_page_brings_a_retired_team_back(world: World) -> None:
    _retired(world, world.t1)
    response = world.client(Role.COMMUNITY_CADRE).post(
        f"/org/organizations/{world.t1.pk}/reactivate/", {"reason": "撤销有误"}, follow=True
    )
    assert "已恢复" in response.content.decode()
    assert Organization.objects.get(pk=world.t1.pk).is_active


def test_the_retired_organisation_page_offers_reactivation(world: World) -> None:
    _retired(world, world.t1)
    body = world.client(Role.COMMUNITY_CADRE).get(f"/org/organizations/{world.t1.pk}/").content
    assert "恢复使用" in body.decode()


def test_an_organisation_in_use_has_no_reactivation_page(world: World) -> None:
    response = world.client(Role.COMMUNITY_CADRE).get(
        f"/org/organizations/{world.t1.pk}/reactivate/"
    )
    assert response.status_code == 404

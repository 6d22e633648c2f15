"""The organisation tree: create, move (paths of the whole subtree) and retire, within scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sanlian.core.models import AuditEntry
from sanlian.core.roles import Role
from sanlian.core.validators import make_credit_code
from sanlian.organizations import services
from sanlian.organizations.models import Community, Organization, OrgKind
from sanlian.organizations.services.tree import common_ancestor_path

from ..conftest import World
from ..factories import OrganizationFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _street(world: World, district: Organization, name: str = "一区新街道工会") -> Organization:
    return OrganizationFactory(name=name, kind=OrgKind.STREET_UNION, parent=district)


def _fresh(org: Organization) -> Organization:
    return Organization.objects.get(pk=org.pk)


# ---- create ---------------------------------------------------------------------------------


def test_area_staff_creates_an_organisation_under_a_community_of_their_area(world: World) -> None:
    org = services.organization_create(
        by=world.users[Role.AREA_STAFF],
        kind=OrgKind.ENTERPRISE,
        parent=world.c1.organization,
        name="凯旋物业公司",
    )
    assert org.path == f"{world.c1.organization.path}{org.pk}/"


def test_creating_under_a_parent_outside_the_area_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="不在您的管辖范围"):
        services.organization_create(
            by=world.users[Role.AREA_STAFF],
            kind=OrgKind.ENTERPRISE,
            parent=world.c2.organization,
            name="越界企业",
        )


def test_a_kind_under_the_wrong_parent_kind_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="居民委员会只能设在以下类型的组织之下：社区联合工会"):
        services.organization_create(
            by=world.users[Role.AREA_STAFF],
            kind=OrgKind.RESIDENTS_COMMITTEE,
            parent=world.s1,
            name="街道居委会",
        )


def test_social_organisation_fields_are_stored(world: World) -> None:
    org = services.organization_create(
        by=world.users[Role.COMMUNITY_CADRE],
        kind=OrgKind.SOCIAL_ORG,
        parent=world.c1.organization,
        name="乐龄社工中心",
        credit_code=make_credit_code("210102", 777),
        service_fields=["elderly", "legal"],
        rating="4A",
        registration_date=dt.date(2019, 5, 1),
        business_scope="为老服务",
    )
    stored = _fresh(org)
    assert (stored.service_fields, stored.rating) == (["elderly", "legal"], "4A")


def test_unknown_service_field_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="服务领域只能从列表中选择"):
        services.organization_create(
            by=world.users[Role.COMMUNITY_CADRE],
            kind=OrgKind.SOCIAL_ORG,
            parent=world.c1.organization,
            name="某中心",
            credit_code=make_credit_code("210102", 778),
            service_fields=["astrology"],
        )


def test_community_create_makes_its_union_and_first_period(world: World) -> None:
    community = services.community_create(
        by=world.users[Role.AREA_STAFF], street=world.s1, name="新建社区", tier="weak"
    )
    period = community.area_periods.get()
    assert (community.organization.parent_id, period.street_id, period.valid_to) == (
        world.s1.pk,
        world.s1.pk,
        None,
    )


# ---- move -----------------------------------------------------------------------------------


def test_move_rewrites_the_path_of_the_node_and_every_descendant(world: World) -> None:
    team = OrganizationFactory(kind=OrgKind.VOLUNTEER_TEAM, parent=world.o1, credit_code=None)
    services.organization_move(
        org=world.o1, new_parent=world.c2.organization, by=world.users[Role.FEDERATION_STAFF]
    )
    k2 = world.c2.organization.path
    assert (_fresh(world.o1).path, _fresh(team).path) == (
        f"{k2}{world.o1.pk}/",
        f"{k2}{world.o1.pk}/{team.pk}/",
    )


def test_move_leaves_other_branches_alone(world: World) -> None:
    before = _fresh(world.t1).path
    services.organization_move(
        org=world.o1, new_parent=world.c2.organization, by=world.users[Role.FEDERATION_STAFF]
    )
    assert _fresh(world.t1).path == before


def test_move_rewrites_the_subtree_paths_in_one_update(world: World) -> None:
    OrganizationFactory(kind=OrgKind.VOLUNTEER_TEAM, parent=world.o1, credit_code=None)
    with CaptureQueriesContext(connection) as ctx:
        services.organization_move(
            org=world.o1, new_parent=world.c2.organization, by=world.users[Role.FEDERATION_STAFF]
        )
    path_updates = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and '"path" =' in q["sql"]
    ]
    assert len(path_updates) == 1


def test_moving_under_its_own_descendant_is_refused(world: World) -> None:
    team = OrganizationFactory(kind=OrgKind.VOLUNTEER_TEAM, parent=world.o1, credit_code=None)
    with pytest.raises(ValidationError, match="不能把组织移到它自身或它的下级组织之下"):
        services.organization_move(
            org=world.o1, new_parent=team, by=world.users[Role.FEDERATION_STAFF]
        )


def test_moving_a_street_under_its_own_community_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="下级组织之下"):
        services.organization_move(
            org=world.s1, new_parent=world.c1.organization, by=world.users[Role.FEDERATION_STAFF]
        )


def test_a_community_union_must_stay_under_a_street(world: World) -> None:
    with pytest.raises(ValidationError, match="社区联合工会只能设在以下类型的组织之下：街道工会"):
        services.organization_move(
            org=world.c1.organization, new_parent=world.d1, by=world.users[Role.FEDERATION_STAFF]
        )


def test_a_street_must_stay_under_a_district(world: World) -> None:
    with pytest.raises(ValidationError, match="街道工会只能设在以下类型的组织之下：区总工会"):
        services.organization_move(
            org=world.s1, new_parent=world.city, by=world.users[Role.FEDERATION_STAFF]
        )


def test_moving_to_the_same_parent_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="新的上级与原上级相同"):
        services.organization_move(
            org=world.o1, new_parent=world.c1.organization, by=world.users[Role.AREA_STAFF]
        )


def test_moving_a_street_to_another_district_moves_its_communities(world: World) -> None:
    services.organization_move(
        org=world.s1, new_parent=world.d2, by=world.users[Role.FEDERATION_STAFF]
    )
    assert Community.objects.get(pk=world.c1.pk).district_id == world.d2.pk


def test_move_writes_one_audit_entry_with_the_old_and_new_parent(world: World) -> None:
    before = AuditEntry.objects.count()
    services.organization_move(
        org=world.o1, new_parent=world.c2.organization, by=world.users[Role.FEDERATION_STAFF]
    )
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (AuditEntry.objects.count() - before, entry.changes["move"]["parent"]) == (
        1,
        [world.c1.organization.pk, world.c2.organization.pk],
    )


# ---- the scope rule for moves: the common ancestor's scope ----------------------------------


def test_common_ancestor_path() -> None:
    assert common_ancestor_path("/1/2/3/9/", "/1/2/5/") == "/1/2/"


def test_area_staff_of_d1_may_move_c1_within_d1(world: World) -> None:
    s1b = _street(world, world.d1)
    services.organization_move(
        org=world.c1.organization, new_parent=s1b, by=world.users[Role.AREA_STAFF]
    )
    assert _fresh(world.c1.organization).parent_id == s1b.pk


def test_area_staff_of_d1_cannot_move_c1_under_s2_in_d2(world: World) -> None:
    with pytest.raises(ValidationError, match="共同上级（测试市总工会）"):
        services.organization_move(
            org=world.c1.organization, new_parent=world.s2, by=world.users[Role.AREA_STAFF]
        )


def test_city_staff_may_move_c1_under_s2_in_d2(world: World) -> None:
    services.organization_move(
        org=world.c1.organization, new_parent=world.s2, by=world.users[Role.FEDERATION_STAFF]
    )
    assert Community.objects.get(pk=world.c1.pk).street_id == world.s2.pk


def test_area_staff_of_d1_cannot_move_c2(world: World) -> None:
    s2b = _street(world, world.d2, "二区新街道工会")
    with pytest.raises(ValidationError, match="管辖范围"):
        services.organization_move(
            org=world.c2.organization, new_parent=s2b, by=world.users[Role.AREA_STAFF]
        )


def test_community_cadre_cannot_move_their_own_community(world: World) -> None:
    s1b = _street(world, world.d1)
    with pytest.raises(ValidationError, match="管辖范围"):
        services.organization_move(
            org=world.c1.organization, new_parent=s1b, by=world.users[Role.COMMUNITY_CADRE]
        )


# ---- retire ---------------------------------------------------------------------------------


def test_retire_sets_date_and_reason(world: World) -> None:
    today = timezone.localdate()
    services.organization_retire(
        org=world.t1, by=world.users[Role.COMMUNITY_CADRE], on=today, reason="队伍解散"
    )
    t1 = _fresh(world.t1)
    assert (t1.is_active, t1.retired_on, t1.retired_reason) == (False, today, "队伍解散")


def test_retiring_a_node_with_active_children_is_refused_naming_them(world: World) -> None:
    with pytest.raises(ValidationError, match="仍有 1 个在用的下级组织：凯旋社区联合工会"):
        services.organization_retire(
            org=world.s1,
            by=world.users[Role.AREA_STAFF],
            on=timezone.localdate(),
            reason="撤并",
        )


def test_retiring_a_community_union_with_people_is_refused(world: World) -> None:
    for child in Organization.objects.filter(parent=world.c1.organization):
        Organization.objects.filter(pk=child.pk).update(
            is_active=False, retired_on=dt.date(2026, 1, 1)
        )
    PersonFactory(community=world.c1)
    with pytest.raises(ValidationError, match="社区仍有 3 名登记居民"):
        services.organization_retire(
            org=world.c1.organization,
            by=world.users[Role.AREA_STAFF],
            on=timezone.localdate(),
            reason="撤并",
        )


def test_retire_needs_a_reason(world: World) -> None:
    with pytest.raises(ValidationError, match="请填写撤销原因"):
        services.organization_retire(
            org=world.t1, by=world.users[Role.COMMUNITY_CADRE], on=timezone.localdate(), reason=" "
        )


def test_retiring_twice_is_refused(world: World) -> None:
    user = world.users[Role.COMMUNITY_CADRE]
    services.organization_retire(org=world.t1, by=user, on=timezone.localdate(), reason="解散")
    with pytest.raises(ValidationError, match="已于"):
        services.organization_retire(org=world.t1, by=user, on=timezone.localdate(), reason="x")


def test_moving_a_community_union_records_what_hangs_on_it(world: World) -> None:
    s1b = _street(world, world.d1)
    services.organization_move(
        org=world.c1.organization, new_parent=s1b, by=world.users[Role.AREA_STAFF]
    )
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (
        entry.changes["restructure"],
        entry.changes["moved"]["organizations.Person"]["count"],
    ) == (
        "move",
        2,
    )

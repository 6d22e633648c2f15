"""三员分立 (GB/T 22239-2019): the system administrator keeps accounts, the security
administrator grants roles, the audit administrator reads the audit trail and nothing else;
no account holds two of the three."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from sanlian.core import services
from sanlian.core.models import AuditAction, AuditEntry, RoleGrant, User
from sanlian.core.roles import Role

from ..conftest import World
from ..factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

TWO_DUTIES = "三员分立：该账号已是审计管理员，不能再授予安全管理员。"


def _grant_on_page(world: World, by: str, target: User, role: str) -> Client:
    client = world.client(by)
    client.post(reverse("user_detail", args=[target.pk]), {"grant": "1", "role": role})
    return client


def _new_account(world: World) -> dict[str, object]:
    return {
        "username": "newcomer",
        "full_name": "新同事",
        "organization": world.c1.organization.pk,
        "password": "Start#Pass2026",
    }


# ---- no account holds two of the three --------------------------------------------------


def test_service_refuses_a_second_admin_role_in_chinese(world: World) -> None:
    with pytest.raises(ValidationError, match=TWO_DUTIES):
        services.user_grant_role(
            user=world.users[Role.AUDIT_ADMIN],
            role=Role.SECURITY_ADMIN,
            granted_by=world.users[Role.SECURITY_ADMIN],
        )


@pytest.mark.parametrize(
    ("holder", "second"),
    [
        (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN),
        (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN),
        (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN),
        (Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN),
    ],
)
def test_no_pair_of_admin_roles_can_be_held(world: World, holder: str, second: str) -> None:
    user = UserFactory(roles=[holder])
    with pytest.raises(ValidationError):
        services.user_grant_role(user=user, role=second)


def test_refused_grant_writes_nothing(world: World) -> None:
    user = world.users[Role.AUDIT_ADMIN]
    with pytest.raises(ValidationError):
        services.user_grant_role(user=user, role=Role.SYSTEM_ADMIN)
    assert sorted(user.role_grants.values_list("role", flat=True)) == [Role.AUDIT_ADMIN]


def test_page_refuses_a_second_admin_role_in_chinese(world: World) -> None:
    target = world.users[Role.AUDIT_ADMIN]
    response = world.client(Role.SECURITY_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"grant": "1", "role": Role.SECURITY_ADMIN}
    )
    assert TWO_DUTIES in response.content.decode()


def test_page_refusal_grants_nothing(world: World) -> None:
    target = world.users[Role.AUDIT_ADMIN]
    _grant_on_page(world, Role.SECURITY_ADMIN, target, Role.SECURITY_ADMIN)
    assert not RoleGrant.objects.filter(user=target, role=Role.SECURITY_ADMIN).exists()


def test_service_creating_an_account_with_two_admin_roles_creates_nothing(world: World) -> None:
    with pytest.raises(ValidationError):
        services.user_create(
            username="twohats",
            full_name="兼任者",
            organization_id=world.city.pk,
            roles=[Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN],
            password="Start#Pass2026",
        )
    assert not User.objects.filter(username="twohats").exists()


def test_same_admin_role_granted_again_is_no_second_grant(world: World) -> None:
    user = world.users[Role.AUDIT_ADMIN]
    services.user_grant_role(user=user, role=Role.AUDIT_ADMIN)
    assert user.role_grants.filter(role=Role.AUDIT_ADMIN).count() == 1


# ---- the security administrator grants roles --------------------------------------------


def test_security_admin_grants_a_role_on_the_page(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    _grant_on_page(world, Role.SECURITY_ADMIN, target, Role.SOCIAL_WORKER)
    assert RoleGrant.objects.filter(user=target, role=Role.SOCIAL_WORKER).exists()


def test_grant_is_audited_as_a_permission_change(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    _grant_on_page(world, Role.SECURITY_ADMIN, target, Role.SOCIAL_WORKER)
    entry = AuditEntry.objects.filter(action=AuditAction.PERMISSION).order_by("-id")[0]
    assert (entry.object_id, entry.changes, entry.actor_id) == (
        str(target.pk),
        {"grant": Role.SOCIAL_WORKER},
        world.users[Role.SECURITY_ADMIN].pk,
    )


def test_security_admin_revokes_a_role_on_the_page(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    world.client(Role.SECURITY_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"revoke": Role.VOLUNTEER}
    )
    assert not target.role_grants.exists()


def test_security_admin_cannot_grant_to_own_account(world: World) -> None:
    me = world.users[Role.SECURITY_ADMIN]
    with pytest.raises(ValidationError, match="不能给自己的账号授予角色"):
        services.user_grant_role(user=me, role=Role.FEDERATION_STAFF, granted_by=me)


# ---- the system administrator keeps accounts, and grants nothing ------------------------


def test_system_admin_creates_an_account_on_the_page(world: World) -> None:
    response = world.client(Role.SYSTEM_ADMIN).post(reverse("user_create"), _new_account(world))
    user = User.objects.get(username="newcomer")
    assert response["Location"] == reverse("user_detail", args=[user.pk])


def test_account_created_on_the_page_has_no_roles(world: World) -> None:
    world.client(Role.SYSTEM_ADMIN).post(reverse("user_create"), _new_account(world))
    assert User.objects.get(username="newcomer").role_names() == []


def test_account_form_offers_no_roles(world: World) -> None:
    response = world.client(Role.SYSTEM_ADMIN).get(reverse("user_create"))
    assert "roles" not in response.context["form"].fields


def test_account_creation_is_audited(world: World) -> None:
    world.client(Role.SYSTEM_ADMIN).post(reverse("user_create"), _new_account(world))
    user = User.objects.get(username="newcomer")
    entry = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="core.User")[0]
    assert (entry.object_id, entry.actor_id) == (str(user.pk), world.users[Role.SYSTEM_ADMIN].pk)


def test_account_with_a_simple_password_is_refused_in_chinese(world: World) -> None:
    response = world.client(Role.SYSTEM_ADMIN).post(
        reverse("user_create"), _new_account(world) | {"password": "abcdefghij"}
    )
    assert "至少3类" in response.content.decode()


def test_account_with_a_password_like_its_username_is_refused(world: World) -> None:
    world.client(Role.SYSTEM_ADMIN).post(
        reverse("user_create"),
        _new_account(world) | {"username": "wangxiaoming", "password": "Wangxiaoming#1"},
    )
    assert not User.objects.filter(username="wangxiaoming").exists()


def test_system_admin_cannot_grant_roles_on_the_page(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    client = world.client(Role.SYSTEM_ADMIN)
    response = client.post(
        reverse("user_detail", args=[target.pk]), {"grant": "1", "role": Role.FEDERATION_STAFF}
    )
    assert response.status_code == 403


def test_system_admin_grant_attempt_grants_nothing(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    _grant_on_page(world, Role.SYSTEM_ADMIN, target, Role.FEDERATION_STAFF)
    assert not RoleGrant.objects.filter(user=target, role=Role.FEDERATION_STAFF).exists()


def test_system_admin_cannot_revoke_roles(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    world.client(Role.SYSTEM_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"revoke": Role.VOLUNTEER}
    )
    assert target.role_grants.filter(role=Role.VOLUNTEER).exists()


def test_service_refuses_a_grant_by_the_system_admin(world: World) -> None:
    with pytest.raises(ValidationError, match="只有安全管理员可以授予角色"):
        services.user_grant_role(
            user=world.users[Role.VOLUNTEER],
            role=Role.FEDERATION_STAFF,
            granted_by=world.users[Role.SYSTEM_ADMIN],
        )


def test_service_refuses_roles_on_an_account_created_by_the_system_admin(world: World) -> None:
    """Otherwise creating a fresh security administrator would be a way round the rule."""
    with pytest.raises(ValidationError):
        services.user_create(
            username="shadow",
            full_name="影子",
            organization_id=world.city.pk,
            roles=[Role.SECURITY_ADMIN],
            password="Start#Pass2026",
            created_by=world.users[Role.SYSTEM_ADMIN],
        )
    assert not User.objects.filter(username="shadow").exists()


def test_system_admin_resets_a_password(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    world.client(Role.SYSTEM_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"reset": "1", "password": "Reset#Pass2026"}
    )
    target.refresh_from_db()
    assert (target.check_password("Reset#Pass2026"), target.must_change_password) == (True, True)


def test_system_admin_deactivates_an_account(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    world.client(Role.SYSTEM_ADMIN).post(reverse("user_detail", args=[target.pk]), {"active": "0"})
    target.refresh_from_db()
    assert target.is_active is False


def test_system_admin_cannot_deactivate_own_account(world: World) -> None:
    me = world.users[Role.SYSTEM_ADMIN]
    world.client(Role.SYSTEM_ADMIN).post(reverse("user_detail", args=[me.pk]), {"active": "0"})
    me.refresh_from_db()
    assert me.is_active is True


# ---- the security administrator keeps no accounts --------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_security_admin_cannot_create_accounts(world: World, method: str) -> None:
    client = world.client(Role.SECURITY_ADMIN)
    response = getattr(client, method)(reverse("user_create"), _new_account(world))
    assert response.status_code == 403


def test_security_admin_create_attempt_creates_nothing(world: World) -> None:
    world.client(Role.SECURITY_ADMIN).post(reverse("user_create"), _new_account(world))
    assert not User.objects.filter(username="newcomer").exists()


def test_security_admin_cannot_reset_passwords(world: World, password: str) -> None:
    target = world.users[Role.VOLUNTEER]
    response = world.client(Role.SECURITY_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"reset": "1", "password": "Reset#Pass2026"}
    )
    assert response.status_code == 403


def test_security_admin_reset_attempt_leaves_the_password(world: World, password: str) -> None:
    target = world.users[Role.VOLUNTEER]
    world.client(Role.SECURITY_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"reset": "1", "password": "Reset#Pass2026"}
    )
    target.refresh_from_db()
    assert target.check_password(password) is True


def test_security_admin_cannot_deactivate_accounts(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    response = world.client(Role.SECURITY_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"active": "0"}
    )
    assert response.status_code == 403


def test_account_page_hides_forms_of_the_other_duty(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    response = world.client(Role.SECURITY_ADMIN).get(reverse("user_detail", args=[target.pk]))
    assert (response.context["can_grant"], response.context["can_manage"]) == (True, False)


def test_unknown_post_on_the_account_page_is_403(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    response = world.client(Role.SYSTEM_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"something": "1"}
    )
    assert response.status_code == 403


# ---- the audit administrator reads the audit trail and nothing else ---------------------


@pytest.mark.parametrize("page", ["user_list", "user_create"])
def test_audit_admin_gets_403_on_user_management(world: World, page: str) -> None:
    assert world.client(Role.AUDIT_ADMIN).get(reverse(page)).status_code == 403


def test_audit_admin_gets_403_on_an_account_page(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    response = world.client(Role.AUDIT_ADMIN).get(reverse("user_detail", args=[target.pk]))
    assert response.status_code == 403


def test_audit_admin_cannot_grant_roles(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    _grant_on_page(world, Role.AUDIT_ADMIN, target, Role.FEDERATION_STAFF)
    assert not RoleGrant.objects.filter(user=target, role=Role.FEDERATION_STAFF).exists()


def test_audit_admin_reads_the_audit_trail(world: World) -> None:
    assert world.client(Role.AUDIT_ADMIN).get(reverse("audit_list")).status_code == 200


def test_audit_admin_sees_no_people(world: World) -> None:
    PersonFactory(name="王五", community=world.c1)
    response = world.client(Role.AUDIT_ADMIN).get(reverse("organizations:person_list"))
    assert list(response.context["page"]) == []


def test_audit_admin_cannot_open_a_person(world: World) -> None:
    person = PersonFactory(community=world.c1)
    url = reverse("organizations:person_detail", args=[person.pk])
    assert world.client(Role.AUDIT_ADMIN).get(url).status_code == 404


def test_audit_admin_sees_no_communities(world: World) -> None:
    page = world.client(Role.AUDIT_ADMIN).get(reverse("organizations:community_list"))
    assert list(page.context["communities"]) == []


def test_audit_admin_cannot_open_a_community(world: World) -> None:
    url = reverse("organizations:community_detail", args=[world.c1.pk])
    assert world.client(Role.AUDIT_ADMIN).get(url).status_code == 404


def test_audit_admin_sees_no_organisation_tree(world: World) -> None:
    page = world.client(Role.AUDIT_ADMIN).get(reverse("organizations:organization_tree"))
    assert page.context["roots"] == []


def test_audit_admin_api_lists_no_people(world: World) -> None:
    PersonFactory(community=world.c1)
    response = world.client(Role.AUDIT_ADMIN).get("/api/people")
    assert response.json()["items"] == []


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN])
def test_other_admins_see_no_people_either(world: World, role: str) -> None:
    PersonFactory(community=world.c1)
    response = world.client(role).get(reverse("organizations:person_list"))
    assert list(response.context["page"]) == []


@pytest.mark.parametrize("page", ["user_list", "user_create", "audit_list"])
def test_business_roles_get_403_on_admin_pages(world: World, page: str) -> None:
    assert world.client(Role.FEDERATION_STAFF).get(reverse(page)).status_code == 403

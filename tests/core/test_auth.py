"""Sign-in security per 等保2.0 (GB/T 22239-2019): password complexity, lockout, idle expiry,
forced password change, TOTP second factor, and bad input at the login page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from sanlian.core.middleware import SESSION_TOUCH_SECONDS, SESSION_TOUCHED
from sanlian.core.models import AuditAction, AuditEntry, User
from sanlian.core.roles import ADMIN_ROLES, Role

from ..conftest import World
from ..factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
WRONG_LOGIN = "用户名或密码错误。连续5次错误后账号将被锁定30分钟。"
NEW_PASSWORD = "Neu#Kennwort77"
ADMINS = sorted(ADMIN_ROLES)


def _login(client: Client, username: str, password: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password})


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _wrong_code(device: TOTPDevice) -> str:
    return f"{(int(_code(device)) + 1) % 1_000_000:06d}"


def _row_counts() -> dict[str, int]:
    with connection.cursor() as cur:
        counts = {}
        for table in connection.introspection.table_names(cur):
            cur.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cur.fetchone()[0]
    return counts


def _changed_tables(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {t for t in after if after[t] != before.get(t)}


# ---- password complexity ----------------------------------------------------------------


@pytest.mark.parametrize("weak", ["abcdefgh", "abcd1234", "ABCDEFGH1", "zxcv!@#$"])
def test_password_of_fewer_than_three_kinds_is_refused_in_chinese(weak: str) -> None:
    with pytest.raises(ValidationError, match="至少3类"):
        password_validation.validate_password(weak)


def test_password_change_page_refuses_a_password_shorter_than_eight(
    world: World, password: str
) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        reverse("password_change"),
        {"old_password": password, "new_password1": "Ab1!xyz", "new_password2": "Ab1!xyz"},
    )
    assert "密码长度太短。密码必须包含至少 8 个字符。" in response.content.decode()


def test_password_of_eight_characters_and_three_kinds_is_accepted() -> None:
    password_validation.validate_password("qzxv7bn#")  # raises ValidationError if refused


def test_password_shorter_than_eight_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        password_validation.validate_password("Ab1!xyz")
    assert [e.code for e in excinfo.value.error_list] == ["password_too_short"]


def test_password_change_page_refuses_a_simple_password(world: World, password: str) -> None:
    response = world.client(Role.COMMUNITY_CADRE).post(
        reverse("password_change"),
        {"old_password": password, "new_password1": "qwertzuiop", "new_password2": "qwertzuiop"},
    )
    assert "至少3类" in response.content.decode()


# ---- login messages and bad input ------------------------------------------------------


def test_wrong_password_gets_the_chinese_message(world: World) -> None:
    response = _login(Client(), Role.COMMUNITY_CADRE, "Wrong#Pass1")
    assert response.context["form"].non_field_errors() == [WRONG_LOGIN]


def test_unknown_user_gets_the_same_message_as_a_wrong_password(world: World) -> None:
    response = _login(Client(), "nobody-here", "Wrong#Pass1")
    assert response.context["form"].non_field_errors() == [WRONG_LOGIN]


def test_inactive_user_gets_the_same_message_as_a_wrong_password(
    world: World, password: str
) -> None:
    UserFactory(username="gone", is_active=False)
    response = _login(Client(), "gone", password)
    assert response.context["form"].non_field_errors() == [WRONG_LOGIN]


def test_wrong_password_writes_only_the_audit_entry_and_the_lockout_counter(
    world: World,
) -> None:
    client = Client()
    client.get(LOGIN)
    before = _row_counts()
    _login(client, Role.COMMUNITY_CADRE, "Wrong#Pass1")
    # axes_accessattempt is the failure counter the lockout needs.
    assert _changed_tables(before, _row_counts()) == {"core_auditentry", "axes_accessattempt"}


def test_wrong_password_adds_exactly_one_audit_entry(world: World) -> None:
    before = AuditEntry.objects.count()
    _login(Client(), Role.COMMUNITY_CADRE, "Wrong#Pass1")
    assert AuditEntry.objects.count() == before + 1


def test_forged_csrf_token_on_login_is_403(world: World, password: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    response = client.post(
        LOGIN,
        {"username": Role.COMMUNITY_CADRE, "password": password, "csrfmiddlewaretoken": "x" * 64},
    )
    assert response.status_code == 403


def test_forged_csrf_token_on_login_writes_only_the_audit_entry(
    world: World, password: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    before = _row_counts()
    client.post(
        LOGIN,
        {"username": Role.COMMUNITY_CADRE, "password": password, "csrfmiddlewaretoken": "x" * 64},
    )
    assert _changed_tables(before, _row_counts()) == {"core_auditentry"}


def test_forged_csrf_token_is_explained_in_chinese(world: World, password: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    response = client.post(
        LOGIN,
        {"username": Role.COMMUNITY_CADRE, "password": password, "csrfmiddlewaretoken": "x" * 64},
    )
    assert "页面的安全校验已失效" in response.content.decode()


def test_right_password_signs_in(world: World, password: str) -> None:
    client = Client()
    _login(client, Role.COMMUNITY_CADRE, password)
    assert client.get(reverse("account")).status_code == 200


# ---- lockout (django-axes) -------------------------------------------------------------


def _fail_five_times(client: Client, username: str) -> None:
    for _ in range(5):
        _login(client, username, "Wrong#Pass1")


def test_sixth_attempt_with_the_right_password_is_locked_out(world: World, password: str) -> None:
    client = Client()
    _fail_five_times(client, Role.COMMUNITY_CADRE)
    response = _login(client, Role.COMMUNITY_CADRE, password)
    assert response.status_code == 429


def test_lockout_page_is_in_chinese(world: World, password: str) -> None:
    client = Client()
    _fail_five_times(client, Role.COMMUNITY_CADRE)
    response = _login(client, Role.COMMUNITY_CADRE, password)
    assert "该账号已被锁定" in response.content.decode()


def test_locked_out_user_is_not_signed_in(world: World, password: str) -> None:
    client = Client()
    _fail_five_times(client, Role.COMMUNITY_CADRE)
    _login(client, Role.COMMUNITY_CADRE, password)
    assert client.get(reverse("account")).status_code == 302


def test_lockout_is_per_account(world: World, password: str) -> None:
    client = Client()
    _fail_five_times(client, Role.COMMUNITY_CADRE)
    _login(client, Role.AREA_STAFF, password)
    assert client.get(reverse("account")).status_code == 200


def test_four_failures_do_not_lock(world: World, password: str) -> None:
    client = Client()
    for _ in range(4):
        _login(client, Role.COMMUNITY_CADRE, "Wrong#Pass1")
    _login(client, Role.COMMUNITY_CADRE, password)
    assert client.get(reverse("account")).status_code == 200


# ---- session idle expiry ---------------------------------------------------------------


def test_the_expiry_moves_forward_with_use_saved_at_most_once_a_minute(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    client.get(reverse("account"))
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date
    client.get(reverse("account"))
    assert Session.objects.get(session_key=key).expire_date == first  # no write per request
    session = client.session
    session[SESSION_TOUCHED] -= SESSION_TOUCH_SECONDS  # the last save was a minute ago
    session.save()
    Session.objects.filter(session_key=key).update(expire_date=first)
    client.get(reverse("account"))
    assert Session.objects.get(session_key=key).expire_date > first


def test_idle_limit_is_at_most_thirty_minutes() -> None:
    assert 0 < settings.SESSION_COOKIE_AGE <= 30 * 60


def test_a_request_pushes_the_session_expiry_forward(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    Session.objects.update(expire_date=timezone.now() + timedelta(seconds=60))
    client.get(reverse("account"))
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date > timezone.now() + timedelta(
        seconds=settings.SESSION_COOKIE_AGE - 60
    )


def _expire_sessions() -> None:
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))


def test_expired_session_is_sent_to_login(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    _expire_sessions()
    response = client.get(reverse("account"))
    assert response["Location"].startswith(LOGIN)


def test_expired_session_login_page_says_it_timed_out(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    _expire_sessions()
    response = client.get(reverse("account"))
    # The response deletes the dead cookie; a browser then sends none at all.
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 0
    del client.cookies[settings.SESSION_COOKIE_NAME]
    page = client.get(response["Location"])
    assert "登录已超时，请重新登录。" in page.content.decode()


def test_login_page_with_a_dead_cookie_says_it_timed_out(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    _expire_sessions()
    assert "登录已超时，请重新登录。" in client.get(LOGIN).content.decode()


def test_first_visit_to_login_says_nothing_about_a_timeout(world: World) -> None:
    assert "登录已超时" not in Client().get(LOGIN).content.decode()


def test_login_page_after_logout_says_nothing_about_a_timeout(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    page = client.post(reverse("logout"), follow=True)
    assert "登录已超时" not in page.content.decode()


# ---- forced password change on first login ----------------------------------------------


def _create_account_on_page(world: World) -> User:
    world.client(Role.SYSTEM_ADMIN).post(
        reverse("user_create"),
        {
            "username": "newcomer",
            "full_name": "新同事",
            "organization": world.c1.organization.pk,
            "password": "Start#Pass2026",
        },
    )
    return User.objects.get(username="newcomer")


def test_account_created_on_the_page_must_change_password(world: World) -> None:
    assert _create_account_on_page(world).must_change_password is True


@pytest.mark.parametrize("page", ["home", "account", "organizations:person_list"])
def test_every_page_sends_a_new_account_to_password_change(world: World, page: str) -> None:
    _create_account_on_page(world)
    client = Client()
    _login(client, "newcomer", "Start#Pass2026")
    response = client.get(reverse(page))
    assert response["Location"] == reverse("password_change")


def _change_password(client: Client, old: str) -> Any:
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def test_after_the_change_pages_open(world: World) -> None:
    _create_account_on_page(world)
    client = Client()
    _login(client, "newcomer", "Start#Pass2026")
    _change_password(client, "Start#Pass2026")
    assert client.get(reverse("account")).status_code == 200


def test_after_the_change_the_flag_is_cleared(world: World) -> None:
    user = _create_account_on_page(world)
    client = Client()
    _login(client, "newcomer", "Start#Pass2026")
    _change_password(client, "Start#Pass2026")
    user.refresh_from_db()
    assert user.must_change_password is False


def test_after_the_change_the_new_password_signs_in(world: World) -> None:
    _create_account_on_page(world)
    client = Client()
    _login(client, "newcomer", "Start#Pass2026")
    _change_password(client, "Start#Pass2026")
    fresh = Client()
    _login(fresh, "newcomer", NEW_PASSWORD)
    assert fresh.get(reverse("account")).status_code == 200


def test_password_reset_by_admin_forces_a_change_again(world: World, password: str) -> None:
    target = world.users[Role.COMMUNITY_CADRE]
    world.client(Role.SYSTEM_ADMIN).post(
        reverse("user_detail", args=[target.pk]), {"reset": "1", "password": "Reset#Pass2026"}
    )
    client = Client()
    _login(client, Role.COMMUNITY_CADRE, "Reset#Pass2026")
    assert client.get(reverse("home"))["Location"] == reverse("password_change")


# ---- TOTP second factor -----------------------------------------------------------------


def _enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="手机", confirmed=True)


@pytest.mark.parametrize("role", ADMINS)
def test_admin_without_a_device_is_sent_to_enrol(world: World, password: str, role: str) -> None:
    client = Client()
    _login(client, role, password)
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("otp_setup"))


@pytest.mark.parametrize("role", ADMINS)
def test_admin_with_a_device_must_give_the_code(world: World, password: str, role: str) -> None:
    _enrolled(world.users[role])
    client = Client()
    _login(client, role, password)
    response = client.get(reverse("home"))
    assert response["Location"].startswith(reverse("otp_verify"))


@pytest.mark.parametrize(
    ("role", "page"),
    [
        (Role.SYSTEM_ADMIN, "user_list"),
        (Role.SECURITY_ADMIN, "user_list"),
        (Role.AUDIT_ADMIN, "audit_list"),
        (Role.AUDIT_ADMIN, "audit_export"),
    ],
)
def test_admin_pages_are_closed_before_the_second_factor(
    world: World, password: str, role: str, page: str
) -> None:
    _enrolled(world.users[role])
    client = Client()
    _login(client, role, password)
    assert client.get(reverse(page)).status_code == 302


def test_correct_code_lets_the_admin_in(world: World, password: str) -> None:
    device = _enrolled(world.users[Role.AUDIT_ADMIN])
    client = Client()
    _login(client, Role.AUDIT_ADMIN, password)
    client.post(reverse("otp_verify"), {"token": _code(device), "next": reverse("audit_list")})
    assert client.get(reverse("audit_list")).status_code == 200


def test_correct_code_returns_to_the_page_asked_for(world: World, password: str) -> None:
    device = _enrolled(world.users[Role.AUDIT_ADMIN])
    client = Client()
    _login(client, Role.AUDIT_ADMIN, password)
    gate = client.get(reverse("audit_verify"))
    response = client.post(gate["Location"], {"token": _code(device)})
    assert response["Location"] == reverse("audit_verify")


def test_a_used_code_cannot_be_replayed(world: World, password: str) -> None:
    device = _enrolled(world.users[Role.SYSTEM_ADMIN])
    token = _code(device)
    first = Client()
    _login(first, Role.SYSTEM_ADMIN, password)
    first.post(reverse("otp_verify"), {"token": token})
    second = Client()
    _login(second, Role.SYSTEM_ADMIN, password)
    second.post(reverse("otp_verify"), {"token": token})
    assert second.get(reverse("user_list")).status_code == 302


def test_the_code_is_the_one_the_device_accepts(world: World) -> None:
    device = _enrolled(world.users[Role.SYSTEM_ADMIN])
    assert device.verify_token(_code(device)) is True


def test_wrong_code_is_refused_in_chinese(world: World, password: str) -> None:
    device = _enrolled(world.users[Role.SECURITY_ADMIN])
    client = Client()
    _login(client, Role.SECURITY_ADMIN, password)
    response = client.post(reverse("otp_verify"), {"token": _wrong_code(device)})
    assert "验证码错误或已过期，请重新输入。" in response.content.decode()


def test_wrong_code_keeps_the_admin_out(world: World, password: str) -> None:
    device = _enrolled(world.users[Role.SECURITY_ADMIN])
    client = Client()
    _login(client, Role.SECURITY_ADMIN, password)
    client.post(reverse("otp_verify"), {"token": _wrong_code(device)})
    assert client.get(reverse("user_list")).status_code == 302


def test_wrong_code_is_audited(world: World, password: str) -> None:
    user = world.users[Role.SECURITY_ADMIN]
    device = _enrolled(user)
    client = Client()
    _login(client, Role.SECURITY_ADMIN, password)
    client.post(reverse("otp_verify"), {"token": _wrong_code(device)})
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("-id")[0]
    assert (entry.actor_id, entry.changes) == (user.pk, {"second_factor": "wrong code"})


def test_admin_enrols_with_a_correct_code_and_gets_in(world: World, password: str) -> None:
    user = world.users[Role.AUDIT_ADMIN]
    client = Client()
    _login(client, Role.AUDIT_ADMIN, password)
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(reverse("otp_setup"), {"token": _code(device), "next": reverse("audit_list")})
    assert client.get(reverse("audit_list")).status_code == 200


def test_admin_with_a_device_cannot_enrol_a_new_one_without_the_code(
    world: World, password: str
) -> None:
    """Otherwise the password alone would let anyone replace the administrator's device."""
    _enrolled(world.users[Role.SYSTEM_ADMIN])
    client = Client()
    _login(client, Role.SYSTEM_ADMIN, password)
    response = client.get(reverse("otp_setup"))
    assert response["Location"].startswith(reverse("otp_verify"))


def test_admin_with_a_device_cannot_post_a_new_enrolment_without_the_code(
    world: World, password: str
) -> None:
    user = world.users[Role.SYSTEM_ADMIN]
    original = _enrolled(user)
    client = Client()
    _login(client, Role.SYSTEM_ADMIN, password)
    planted = TOTPDevice.objects.create(user=user, name="攻击者", confirmed=False)
    client.post(reverse("otp_setup"), {"token": _code(planted)})
    assert list(TOTPDevice.objects.filter(user=user, confirmed=True)) == [original]


def test_admin_cannot_change_the_password_without_the_code(world: World, password: str) -> None:
    _enrolled(world.users[Role.SECURITY_ADMIN])
    client = Client()
    _login(client, Role.SECURITY_ADMIN, password)
    response = _change_password(client, password)
    assert response["Location"].startswith(reverse("otp_verify"))


def test_password_change_without_the_code_leaves_the_password(world: World, password: str) -> None:
    user = world.users[Role.SECURITY_ADMIN]
    _enrolled(user)
    client = Client()
    _login(client, Role.SECURITY_ADMIN, password)
    _change_password(client, password)
    user.refresh_from_db()
    assert user.check_password(password) is True


def test_admin_changes_the_password_after_the_code(world: World, password: str) -> None:
    user = world.users[Role.SECURITY_ADMIN]
    device = _enrolled(user)
    client = Client()
    _login(client, Role.SECURITY_ADMIN, password)
    client.post(reverse("otp_verify"), {"token": _code(device)})
    _change_password(client, password)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) is True


def test_cadre_is_not_forced_to_use_a_second_factor(world: World, password: str) -> None:
    client = Client()
    _login(client, Role.COMMUNITY_CADRE, password)
    assert client.get(reverse("home")).status_code == 200


def test_account_page_offers_enrolment_to_a_cadre(world: World) -> None:
    page = world.client(Role.COMMUNITY_CADRE).get(reverse("account")).content.decode()
    assert reverse("otp_setup") in page


def test_cadre_enrols_from_the_account_page(world: World) -> None:
    user = world.users[Role.COMMUNITY_CADRE]
    client = world.client(Role.COMMUNITY_CADRE)
    client.get(reverse("otp_setup"), {"next": reverse("account")})
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(reverse("otp_setup"), {"token": _code(device), "next": reverse("account")})
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_account_page_shows_the_second_factor_as_enabled(world: World) -> None:
    user = world.users[Role.COMMUNITY_CADRE]
    client = world.client(Role.COMMUNITY_CADRE)
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post(reverse("otp_setup"), {"token": _code(device), "next": reverse("account")})
    assert "已启用" in client.get(reverse("account")).content.decode()


def test_cadre_enrolment_with_a_wrong_code_is_refused_in_chinese(world: World) -> None:
    user = world.users[Role.COMMUNITY_CADRE]
    client = world.client(Role.COMMUNITY_CADRE)
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("otp_setup"), {"token": _wrong_code(device)})
    assert "验证码错误" in response.content.decode()


def test_cadre_who_enrolled_is_asked_for_the_code_at_sign_in(world: World, password: str) -> None:
    _enrolled(world.users[Role.COMMUNITY_CADRE])
    client = Client()
    _login(client, Role.COMMUNITY_CADRE, password)
    assert client.get(reverse("home"))["Location"].startswith(reverse("otp_verify"))

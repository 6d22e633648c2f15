"""The audit trail: what is written, who reads it, that nobody can change it, and that
concurrent edits never silently overwrite each other."""

from __future__ import annotations

import datetime as dt
import io
import json
import runpy
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sanlian.config import settings as settings_module
from sanlian.core import audit_guard, services
from sanlian.core.audit import GENESIS, verify_chain
from sanlian.core.models import AuditAction, AuditEntry, User
from sanlian.core.roles import Role
from sanlian.core.validators import generate_resident_id
from sanlian.organizations import services as org_services
from sanlian.organizations.models import Community, Organization, OrgKind

from ..conftest import World
from ..factories import OrganizationFactory, PersonFactory, audit_entry

pytestmark = pytest.mark.django_db

VALID_ID = generate_resident_id("210102", dt.date(1975, 3, 9), 123)


def _latest(action: str, **filters: Any) -> AuditEntry:
    return AuditEntry.objects.filter(action=action, **filters).order_by("-id")[0]


def _login(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def _form_data(response: Any) -> dict[str, Any]:
    """What the edit page's form would post back unchanged."""
    form = response.context["form"]
    return {name: "" if form[name].value() is None else form[name].value() for name in form.fields}


# ---- what is written --------------------------------------------------------------------


def _edit_o1_name(world: World, new_name: str) -> Organization:
    client = world.client(Role.COMMUNITY_CADRE)
    url = reverse("organizations:organization_edit", args=[world.o1.pk])
    data = _form_data(client.get(url)) | {"name": new_name}
    client.post(url, data)
    return world.o1


def test_update_on_the_edit_page_records_old_and_new_values(world: World) -> None:
    org = _edit_o1_name(world, "阳光社工服务中心")
    entry = _latest(AuditAction.UPDATE, object_type="organizations.Organization")
    assert (entry.object_id, entry.changes) == (
        str(org.pk),
        {"name": ["阳光社工中心", "阳光社工服务中心"]},
    )


def test_update_on_the_edit_page_records_who_and_from_where(world: World) -> None:
    _edit_o1_name(world, "阳光社工服务中心")
    entry = _latest(AuditAction.UPDATE, object_type="organizations.Organization")
    cadre = world.users[Role.COMMUNITY_CADRE]
    assert (entry.actor_id, entry.actor_name, entry.ip) == (cadre.pk, cadre.username, "127.0.0.1")


def test_update_records_when(world: World) -> None:
    before = timezone.now()
    _edit_o1_name(world, "阳光社工服务中心")
    entry = _latest(AuditAction.UPDATE, object_type="organizations.Organization")
    assert before <= entry.at <= timezone.now()


def test_create_through_the_service_is_recorded(world: World) -> None:
    person = org_services.person_create(name="李四", community=world.c1, id_number=VALID_ID)
    entry = _latest(AuditAction.CREATE, object_type="organizations.Person")
    assert (entry.object_id, entry.changes["name"]) == (str(person.pk), [None, "李四"])


def test_create_through_the_api_with_a_token_records_the_token_user(world: World) -> None:
    cadre = world.users[Role.COMMUNITY_CADRE]
    _token, raw = services.api_token_create(user=cadre, name="t")
    Client().post(
        "/api/people",
        data=json.dumps({"name": "赵六", "community_id": world.c1.pk, "id_number": VALID_ID}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    entry = _latest(AuditAction.CREATE, object_type="organizations.Person")
    assert (entry.actor_id, entry.actor_name) == (cadre.pk, cadre.username)


def test_create_record_holds_no_full_id_number(world: World) -> None:
    org_services.person_create(name="李四", community=world.c1, id_number=VALID_ID)
    entry = _latest(AuditAction.CREATE, object_type="organizations.Person")
    assert VALID_ID not in json.dumps(entry.changes)


def test_create_record_masks_the_ciphertext(world: World) -> None:
    org_services.person_create(name="李四", community=world.c1, id_number=VALID_ID)
    entry = _latest(AuditAction.CREATE, object_type="organizations.Person")
    assert entry.changes["id_number_encrypted"] == [None, "***"]


def test_delete_is_recorded_with_what_was_deleted(world: World) -> None:
    org = OrganizationFactory(
        name="临时志愿队", kind=OrgKind.VOLUNTEER_TEAM, parent=world.c1.organization
    )
    pk = org.pk
    org.delete()
    entry = _latest(AuditAction.DELETE, object_type="organizations.Organization")
    assert (entry.object_id, entry.changes["name"]) == (str(pk), "临时志愿队")


def test_login_is_recorded(world: World, password: str) -> None:
    _login(Client(), Role.COMMUNITY_CADRE, password)
    entry = _latest(AuditAction.LOGIN)
    cadre = world.users[Role.COMMUNITY_CADRE]
    assert (entry.actor_id, entry.object_id, entry.ip) == (cadre.pk, str(cadre.pk), "127.0.0.1")


def test_failed_login_of_a_known_user_is_recorded(world: World) -> None:
    _login(Client(), Role.COMMUNITY_CADRE, "Wrong#Pass1")
    entry = _latest(AuditAction.LOGIN_FAILED)
    assert (entry.actor_name, entry.object_repr, entry.ip) == (
        Role.COMMUNITY_CADRE,
        Role.COMMUNITY_CADRE,
        "127.0.0.1",
    )


def test_failed_login_of_an_unknown_user_is_recorded(world: World) -> None:
    _login(Client(), "nobody-here", "Wrong#Pass1")
    entry = _latest(AuditAction.LOGIN_FAILED)
    assert (entry.actor_id, entry.actor_name) == (None, "nobody-here")


def test_failed_login_never_records_the_password_tried(world: World) -> None:
    _login(Client(), Role.COMMUNITY_CADRE, "Wrong#Pass1")
    entry = _latest(AuditAction.LOGIN_FAILED)
    assert "Wrong#Pass1" not in json.dumps(entry.changes) + entry.object_repr


def test_logout_is_recorded(world: World) -> None:
    client = world.client(Role.COMMUNITY_CADRE)
    client.post(reverse("logout"))
    entry = _latest(AuditAction.LOGOUT)
    assert entry.actor_id == world.users[Role.COMMUNITY_CADRE].pk


def test_lockout_is_recorded(world: World) -> None:
    client = Client()
    for _ in range(5):
        _login(client, Role.COMMUNITY_CADRE, "Wrong#Pass1")
    entry = _latest(AuditAction.LOCKED_OUT)
    assert (entry.actor_name, entry.ip) == (Role.COMMUNITY_CADRE, "127.0.0.1")


def _reveal(world: World) -> tuple[Any, int]:
    person = PersonFactory(community=world.c1, id_number=VALID_ID)
    url = reverse("organizations:person_detail", args=[person.pk])
    return world.client(Role.COMMUNITY_CADRE).post(url, {"reveal": "id_number"}), person.pk


def test_reveal_shows_the_full_id_number(world: World) -> None:
    response, _pk = _reveal(world)
    assert VALID_ID in response.content.decode()


def test_reveal_writes_a_view_entry(world: World) -> None:
    _response, pk = _reveal(world)
    entry = _latest(AuditAction.VIEW)
    cadre = world.users[Role.COMMUNITY_CADRE]
    assert (entry.actor_id, entry.object_type, entry.object_id, entry.changes) == (
        cadre.pk,
        "organizations.Person",
        str(pk),
        {"viewed": "id_number"},
    )


def test_plain_detail_shows_the_masked_number_and_writes_no_view(world: World) -> None:
    person = PersonFactory(community=world.c1, id_number=VALID_ID)
    response = world.client(Role.COMMUNITY_CADRE).get(
        reverse("organizations:person_detail", args=[person.pk])
    )
    assert (
        VALID_ID in response.content.decode(),
        AuditEntry.objects.filter(action=AuditAction.VIEW).exists(),
    ) == (False, False)


def _password_life(world: World) -> User:
    """Created on the page, reset by the system administrator, changed by its owner."""
    admin = world.client(Role.SYSTEM_ADMIN)
    admin.post(
        reverse("user_create"),
        {
            "username": "newcomer",
            "full_name": "新同事",
            "organization": world.c1.organization.pk,
            "password": "Start#Pass2026",
        },
    )
    user = User.objects.get(username="newcomer")
    admin.post(reverse("user_detail", args=[user.pk]), {"reset": "1", "password": "Reset#Pass2026"})
    client = Client()
    _login(client, "newcomer", "Reset#Pass2026")
    client.post(
        reverse("password_change"),
        {
            "old_password": "Reset#Pass2026",
            "new_password1": "Neu#Kennwort77",
            "new_password2": "Neu#Kennwort77",
        },
    )
    return user


def test_password_life_is_audited(world: World) -> None:
    user = _password_life(world)
    changes = list(
        AuditEntry.objects.filter(object_type="core.User", object_id=str(user.pk))
        .filter(action=AuditAction.UPDATE)
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert [c.get("password") for c in changes] == ["reset", "changed"]


def test_no_password_hash_ever_reaches_the_trail(world: World) -> None:
    _password_life(world)
    trail = [json.dumps(e.changes) + e.object_repr for e in AuditEntry.objects.all()]
    # Tests hash with MD5 ("md5$..."); production with PBKDF2 ("pbkdf2_sha256$...").
    assert [t for t in trail if "md5$" in t or "pbkdf2" in t] == []


def test_deactivation_records_old_and_new_value(world: World) -> None:
    target = world.users[Role.VOLUNTEER]
    world.client(Role.SYSTEM_ADMIN).post(reverse("user_detail", args=[target.pk]), {"active": "0"})
    entry = _latest(AuditAction.UPDATE, object_type="core.User", object_id=str(target.pk))
    assert entry.changes == {"is_active": [True, False]}


# ---- the audit administrator reads, filters and exports ---------------------------------


def _listed(world: World, **query: str) -> set[int]:
    response = world.client(Role.AUDIT_ADMIN).get(reverse("audit_list"), query)
    return {e.pk for e in response.context["page"]}


def test_audit_admin_lists_the_trail(world: World) -> None:
    entry = audit_entry(object_repr="可见记录")
    assert entry.pk in _listed(world)


def test_list_filters_by_action(world: World) -> None:
    kept = audit_entry(action=AuditAction.EXPORT, object_repr="导出记录")
    dropped = audit_entry(action=AuditAction.VIEW, object_repr="查看记录")
    listed = _listed(world, action=AuditAction.EXPORT)
    assert (kept.pk in listed, dropped.pk in listed) == (True, False)


def test_list_filter_by_action_shows_only_that_action(world: World) -> None:
    audit_entry(action=AuditAction.EXPORT)
    audit_entry(action=AuditAction.VIEW)
    response = world.client(Role.AUDIT_ADMIN).get(reverse("audit_list"), {"action": "export"})
    assert {e.action for e in response.context["page"]} == {"export"}


def test_list_filters_by_text(world: World) -> None:
    kept = audit_entry(object_repr="独一无二的对象")
    audit_entry(object_repr="别的对象")
    assert _listed(world, q="独一无二") == {kept.pk}


def test_list_filters_by_actor_name(world: World) -> None:
    kept = audit_entry(actor_name="zhang.audited")
    assert _listed(world, q="zhang.audited") == {kept.pk}


@pytest.mark.parametrize(
    ("offsets", "shown"),
    [
        ({"date_from": 0, "date_to": 0}, True),
        ({"date_from": -3}, True),
        ({"date_from": 1}, False),
        ({"date_to": -1}, False),
    ],
)
def test_list_filters_by_date(world: World, offsets: dict[str, int], shown: bool) -> None:
    entry = audit_entry(object_repr="今天的记录")
    today = timezone.localdate()
    query = {key: (today + dt.timedelta(days=days)).isoformat() for key, days in offsets.items()}
    assert (entry.pk in _listed(world, **query)) is shown


def _export(world: World, **query: str) -> list[tuple[Any, ...]]:
    response = world.client(Role.AUDIT_ADMIN).get(reverse("audit_export"), query)
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def test_export_reads_back_with_openpyxl(world: World) -> None:
    audit_entry(object_repr="导出对象甲", actor_name="exporter-test")
    rows = _export(world, q="导出对象甲")
    assert [(r[1], r[5]) for r in rows[1:]] == [("exporter-test", "导出对象甲")]


def test_export_has_chinese_headers(world: World) -> None:
    rows = _export(world, q="nothing")
    assert rows[0][:3] == ("时间", "操作人", "操作")


def test_export_honours_the_action_filter(world: World) -> None:
    audit_entry(action=AuditAction.DELETE, object_repr="删掉的")
    audit_entry(action=AuditAction.VIEW, object_repr="看过的")
    rows = _export(world, action=AuditAction.DELETE)
    assert {r[2] for r in rows[1:]} == {"删除"}


def test_export_is_itself_audited(world: World) -> None:
    _export(world, q="x")
    entry = _latest(AuditAction.EXPORT, object_type="core.AuditEntry")
    assert entry.actor_id == world.users[Role.AUDIT_ADMIN].pk


@pytest.mark.parametrize("page", ["audit_list", "audit_export", "audit_verify"])
@pytest.mark.parametrize(
    "role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.FEDERATION_STAFF, Role.COMMUNITY_CADRE]
)
def test_only_the_audit_admin_reads_the_trail(world: World, role: str, page: str) -> None:
    assert world.client(role).get(reverse(page)).status_code == 403


# ---- nothing edits or deletes an entry --------------------------------------------------


def test_saving_an_existing_entry_raises() -> None:
    entry = audit_entry()
    entry.object_repr = "改过"
    with pytest.raises(PermissionError):
        entry.save()


def test_deleting_an_entry_raises() -> None:
    entry = audit_entry()
    with pytest.raises(PermissionError):
        entry.delete()


def _raw(sql: str, params: list[Any]) -> None:
    # atomic() is a savepoint inside the test transaction, so it survives the refusal.
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)


def test_raw_update_is_refused_by_the_database() -> None:
    entry = audit_entry(object_repr="原样")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE core_auditentry SET object_repr = %s WHERE id = %s", ["改过", entry.pk])


def test_refused_update_leaves_the_row_as_it_was() -> None:
    entry = audit_entry(object_repr="原样")
    with pytest.raises(DatabaseError):
        _raw("UPDATE core_auditentry SET object_repr = %s WHERE id = %s", ["改过", entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == "原样"


def test_raw_delete_of_a_fresh_row_is_refused_by_the_database() -> None:
    entry = audit_entry()
    with pytest.raises(DatabaseError, match="180 days"):
        _raw("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])


def test_queryset_delete_is_refused_by_the_database() -> None:
    audit_entry()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all()._raw_delete(connection.alias)


def _insert_aged(days: int) -> str:
    """A row as old as `days`: raw INSERT, since `at` can never be updated afterwards."""
    digest = uuid.uuid4().hex * 2
    at = connection.ops.adapt_datetimefield_value(timezone.now() - dt.timedelta(days=days))
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_auditentry (at, actor_name, action, object_type, object_id,"
            " object_repr, changes, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [at, "archivist", "view", "test.Object", "", "", "{}", GENESIS, digest],
        )
    return digest


def test_row_older_than_180_days_can_be_deleted() -> None:
    digest = _insert_aged(200)
    _raw("DELETE FROM core_auditentry WHERE hash = %s", [digest])
    assert not AuditEntry.objects.filter(hash=digest).exists()


def test_row_of_170_days_cannot_be_deleted() -> None:
    digest = _insert_aged(170)
    with pytest.raises(DatabaseError):
        _raw("DELETE FROM core_auditentry WHERE hash = %s", [digest])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
def test_truncate_is_refused_on_postgresql() -> None:
    audit_entry()
    with pytest.raises(DatabaseError, match="truncated"):
        _raw("TRUNCATE core_auditentry", [])


def test_retention_setting_is_at_least_180_days() -> None:
    assert settings.AUDIT_RETENTION_DAYS >= 180


def test_retention_setting_cannot_be_configured_below_180_days(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SANLIAN_AUDIT_RETENTION_DAYS", "30")
    fresh = runpy.run_path(settings_module.__file__)
    assert fresh["AUDIT_RETENTION_DAYS"] == 180


# ---- tampering is detectable -------------------------------------------------------------


def _three() -> list[AuditEntry]:
    return [audit_entry(object_repr=f"第{i}条") for i in range(3)]


def _tamper(sql: str, params: list[Any]) -> None:
    audit_guard.suspend(connection)
    with connection.cursor() as cur:
        cur.execute(sql, params)
    audit_guard.resume(connection)


def test_fresh_chain_verifies() -> None:
    _three()
    report = verify_chain()
    assert (report.ok, report.checked) == (True, 3)


def test_altered_row_is_reported() -> None:
    entries = _three()
    _tamper("UPDATE core_auditentry SET object_repr = %s WHERE id = %s", ["篡改", entries[1].pk])
    assert verify_chain().first_broken_id == entries[1].pk


def test_altered_changes_are_reported() -> None:
    entries = _three()
    _tamper("UPDATE core_auditentry SET changes = %s WHERE id = %s", ['{"x": 1}', entries[0].pk])
    assert verify_chain().first_broken_id == entries[0].pk


def test_removed_row_is_reported_at_the_next_one() -> None:
    entries = _three()
    _tamper("DELETE FROM core_auditentry WHERE id = %s", [entries[1].pk])
    assert verify_chain().first_broken_id == entries[2].pk


def test_guard_is_back_after_resume() -> None:
    entries = _three()
    _tamper("UPDATE core_auditentry SET object_repr = %s WHERE id = %s", ["篡改", entries[1].pk])
    with pytest.raises(DatabaseError):
        _raw("UPDATE core_auditentry SET object_repr = %s WHERE id = %s", ["再改", entries[1].pk])


def test_verify_page_reports_an_intact_chain_in_chinese(world: World) -> None:
    page = world.client(Role.AUDIT_ADMIN).get(reverse("audit_verify")).content.decode()
    assert "哈希链完整" in page


def test_verify_page_reports_the_broken_entry_in_chinese(world: World) -> None:
    entries = _three()
    _tamper("UPDATE core_auditentry SET object_repr = %s WHERE id = %s", ["篡改", entries[1].pk])
    page = world.client(Role.AUDIT_ADMIN).get(reverse("audit_verify")).content.decode()
    assert f"哈希链在第 {entries[1].pk} 号记录处断开" in page


def test_entries_with_an_ipv6_address_verify(world: World) -> None:
    audit_entry(ip="2001:DB8::1")
    assert verify_chain().ok


# ---- no silent overwrites ----------------------------------------------------------------


def _two_sessions(world: World, url: str) -> tuple[Client, dict[str, Any], Client, dict[str, Any]]:
    first, second = world.client(Role.COMMUNITY_CADRE), world.client(Role.AREA_STAFF)
    return first, _form_data(first.get(url)), second, _form_data(second.get(url))


def _org_conflict(world: World) -> Any:
    url = reverse("organizations:organization_edit", args=[world.o1.pk])
    first, first_data, second, second_data = _two_sessions(world, url)
    first.post(url, first_data | {"name": "甲改的名称"})
    return second.post(url, second_data | {"address": "乙改的地址"})


def test_stale_organization_edit_is_refused_with_a_chinese_message(world: World) -> None:
    response = _org_conflict(world)
    assert "该记录已被他人修改，您的修改未保存。" in response.content.decode()


def test_edits_of_different_fields_are_merged_not_listed(world: World) -> None:
    response = _org_conflict(world)
    assert (response.context["conflicts"], response.context["merged"]) == ([], True)


def test_merged_form_holds_both_edits(world: World) -> None:
    data = _form_data(_org_conflict(world))
    assert (data["name"], data["address"]) == ("甲改的名称", "乙改的地址")


def test_saving_the_merged_form_keeps_both_edits(world: World) -> None:
    url = reverse("organizations:organization_edit", args=[world.o1.pk])
    first, first_data, second, second_data = _two_sessions(world, url)
    first.post(url, first_data | {"name": "甲改的名称"})
    refused = second.post(url, second_data | {"address": "乙改的地址"})
    second.post(url, _form_data(refused))
    org = Organization.objects.get(pk=world.o1.pk)
    assert (org.name, org.address, org.version) == ("甲改的名称", "乙改的地址", 3)


def test_stale_organization_edit_keeps_the_first_edit(world: World) -> None:
    _org_conflict(world)
    org = Organization.objects.get(pk=world.o1.pk)
    assert (org.name, org.address, org.version) == ("甲改的名称", "", 2)


def test_stale_organization_edit_writes_one_update_entry(world: World) -> None:
    _org_conflict(world)
    updates = AuditEntry.objects.filter(
        action=AuditAction.UPDATE, object_type="organizations.Organization"
    )
    assert updates.count() == 1


def _community_conflict(world: World) -> Any:
    url = reverse("organizations:community_edit", args=[world.c1.pk])
    first, first_data, second, second_data = _two_sessions(world, url)
    first.post(url, first_data | {"population": 6100})
    return second.post(url, second_data | {"population": 7200})


def test_stale_community_edit_is_refused_with_a_chinese_message(world: World) -> None:
    response = _community_conflict(world)
    assert "该记录已被他人修改，您的修改未保存。" in response.content.decode()


def test_stale_community_edit_shows_what_changed(world: World) -> None:
    response = _community_conflict(world)
    rows = {(c.field, c.theirs, c.yours) for c in response.context["conflicts"]}
    assert rows == {("population", "6100", "7200")}


def test_stale_community_edit_shows_the_table(world: World) -> None:
    page = _community_conflict(world).content.decode()
    assert ("对方保存的值" in page, "6100" in page, "7200" in page) == (True, True, True)


def test_stale_community_edit_keeps_the_first_edit(world: World) -> None:
    _community_conflict(world)
    community = Community.objects.get(pk=world.c1.pk)
    assert (community.population, community.version) == (6100, 2)


def test_saving_again_after_the_conflict_takes_the_second_edit(world: World) -> None:
    url = reverse("organizations:community_edit", args=[world.c1.pk])
    first, first_data, second, second_data = _two_sessions(world, url)
    first.post(url, first_data | {"population": 6100})
    refused = second.post(url, second_data | {"population": 7200})
    second.post(url, _form_data(refused))
    community = Community.objects.get(pk=world.c1.pk)
    assert (community.population, community.version) == (7200, 3)

"""The Excel imports of 组织联建 — people and memberships, organisations, social workers,
volunteers — as `ImportSpec`s for core.importing, and the service that starts a run.

Rows are validated by the forms of forms.imports against lookups that know only what the
importing user may see: a row naming a community, union or organisation outside the user's
area is rejected with a reason and never written. Upserts are bulk (bulk_create/bulk_update
per batch) and keyed naturally (ID number, credit code, card number), so importing the same
file again updates instead of adding; each batch writes one audit entry per action.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import NOT_PROVIDED, F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core import audit, crypto, tasks
from sanlian.core.importing import (
    BatchOutcome,
    Column,
    ColumnKind,
    ImportSpec,
    Row,
    form_parser,
    imports_dir,
    run_import,
)
from sanlian.core.models import AuditAction, TaskRun, User
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES
from sanlian.core.validators import generate_resident_id, make_credit_code

from . import pinyin
from .forms.imports import (
    IMPORTABLE_ORG_KINDS,
    NO_NEW_EMPLOYMENT,
    OrganizationImportForm,
    PersonImportForm,
    SocialWorkerImportForm,
    VolunteerImportForm,
)
from .models import (
    AREA_KINDS,
    Community,
    Membership,
    MembershipStatus,
    NewEmploymentKind,
    Organization,
    OrgKind,
    Person,
    Qualification,
    Sex,
    SocialWorker,
    Volunteer,
)
from .models.people import fill_search_text

IMPORT_TASK = "organizations.import_xlsx"
_M = TypeVar("_M", bound=models.Model)
WRITE_BATCH = 500  # rows per INSERT/UPDATE statement inside one import batch

# ---- lookups: names in the sheet -> objects the user may see --------------------------------


class Lookups:
    """Resolves the names a sheet uses, among what the importing user may see (everything
    for the shell's import without --user). Built once per run; each table loads on first use."""

    def __init__(self, user: User | None, run: TaskRun | None) -> None:
        self.user = user
        self.run_id = str(run.pk) if run is not None else ""

    def _visible(self, qs: Any) -> Any:
        return qs.visible_to(self.user) if self.user is not None else qs

    @cached_property
    def _communities(self) -> dict[str, list[Community]]:
        out: dict[str, list[Community]] = defaultdict(list)
        qs = (
            self._visible(Community.objects.all()).active().select_related("organization", "street")
        )
        for c in qs:
            out[c.name.strip()].append(c)
        return out

    @cached_property
    def visible_community_ids(self) -> set[int]:
        return {c.pk for cs in self._communities.values() for c in cs}

    @cached_property
    def _orgs(self) -> list[Organization]:
        return list(
            self._visible(Organization.objects.all())
            .active()
            .only("id", "name", "kind", "credit_code", "path", "parent_id", "is_active")
        )

    @cached_property
    def visible_org_ids(self) -> set[int]:
        return {o.pk for o in self._orgs}

    @cached_property
    def _orgs_by_name(self) -> dict[str, list[Organization]]:
        out: dict[str, list[Organization]] = defaultdict(list)
        for o in self._orgs:
            out[o.name.strip()].append(o)
        return out

    @cached_property
    def _orgs_by_code(self) -> dict[str, Organization]:
        return {o.credit_code: o for o in self._orgs if o.credit_code}

    def community(self, name: str) -> Community:
        text = name.strip()
        street = ""
        if "/" in text:
            street, text = (p.strip() for p in text.rsplit("/", 1))
        found = self._communities.get(text) or self._communities.get(text + "社区") or []
        if street:
            found = [c for c in found if c.street.name == street]
        if not found:
            raise ValidationError(_("社区“%(name)s”不存在或不在您的管辖范围内") % {"name": name})
        if len(found) > 1:
            raise ValidationError(
                _("社区名称“%(name)s”不唯一（%(streets)s），请写成“街道/社区”，如“%(example)s”")
                % {
                    "name": name,
                    "streets": "、".join(c.street.name for c in found),
                    "example": f"{found[0].street.name}/{found[0].name}",
                }
            )
        return found[0]

    def _one(self, text: str, kinds: Iterable[str] | None, what: str) -> Organization:
        value = text.strip()
        code = value.upper()
        wanted = set(kinds) if kinds is not None else None
        by_code = self._orgs_by_code.get(code)
        found = [by_code] if by_code is not None else self._orgs_by_name.get(value, [])
        found = [o for o in found if wanted is None or o.kind in wanted]
        if not found:
            raise ValidationError(
                _("%(what)s“%(name)s”不存在或不在您的管辖范围内") % {"what": what, "name": text}
            )
        if len(found) > 1:
            raise ValidationError(
                _("%(what)s名称“%(name)s”不唯一，请改填统一社会信用代码")
                % {"what": what, "name": text}
            )
        return found[0]

    def union(self, name: str) -> Organization:
        try:
            return self._one(name, AREA_KINDS, _("工会"))
        except ValidationError as not_a_union:
            try:
                # "凯旋社区" for its joint union is what people write.
                return self.community(name).organization
            except ValidationError:
                raise not_a_union from None

    def organization(self, text: str) -> Organization:
        return self._one(text, None, _("组织"))

    def social_org(self, text: str) -> Organization:
        return self._one(text, [OrgKind.SOCIAL_ORG], _("社会组织"))

    def team(self, name: str) -> Organization:
        return self._one(name, [OrgKind.VOLUNTEER_TEAM], _("志愿服务队"))

    def person(self, id_number: str) -> Person:
        person = (
            self._visible(Person.objects.all())
            .filter(id_number_hash=crypto.search_hash(id_number), is_active=True)
            .first()
        )
        if person is None:
            raise ValidationError(
                _("该身份证号尚未登记或不在您的管辖范围内，请先通过“居民与会员”导入登记此人")
            )
        return person

    def audit(self, action: str, model: type[models.Model], ids: list[int], **changes: Any) -> None:
        if not ids:
            return
        audit.record(
            action,
            object_type=model._meta.label,
            object_repr=_("Excel导入：%(verb)s %(n)d 条") % {"verb": _VERB[action], "n": len(ids)},
            changes={"import_run": self.run_id, "ids": ids, **changes},
            actor_id=self.user.pk if self.user is not None else None,
            actor_name=self.user.username if self.user is not None else "import_xlsx",
        )


_VERB: dict[str, Any] = {
    AuditAction.CREATE: gettext_lazy("新增"),
    AuditAction.UPDATE: gettext_lazy("更新"),
}


def _make_context(user: User | None, run: TaskRun | None) -> Lookups:
    return Lookups(user, run)


def _assign(obj: models.Model, values: dict[str, Any]) -> bool:
    """Set the given (non-empty) values; True if any differs from what the object holds."""
    changed = False
    for name, value in values.items():
        if value is None or value == "":
            continue
        if isinstance(value, models.Model):
            differs = getattr(obj, f"{name}_id") != value.pk
        else:
            differs = getattr(obj, name) != value
        if differs:
            setattr(obj, name, value)
            changed = True
    return changed


_DEFAULT = object()


@functools.cache
def _building_plan(model: type[models.Model]) -> list[tuple[str, Any, bool]]:
    """(name, default, whether the default is a callable) of each concrete field, in order."""
    plan = []
    for f in model._meta.concrete_fields:
        call = f.has_default() and callable(f.default)
        plan.append((f.name, _DEFAULT if call else f.get_default(), call))
    return plan


def _field_default(model: type[models.Model], name: str) -> Any:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.get_default()


def _built(model: type[_M], given: dict[str, Any], values: dict[str, Any]) -> _M:
    """`model(**given)` followed by `_assign(obj, values)`, built the way Django builds a row
    it loads -- each concrete field's value in order -- in a fifth of the time (a new person
    and a membership for each row of a people import). Related objects become their keys."""
    args = []
    for name, default, call in _building_plan(model):
        value = values.get(name)
        if value is None or value == "":
            value = given.get(name, _DEFAULT)
            if value is _DEFAULT:
                value = _field_default(model, name) if call else default
        if isinstance(value, models.Model):
            value = value.pk
        args.append(value)
    return model(*args)


# Fields whose attribute value is what the column stores, without conversion or save-time
# behaviour of their own (auto_now, files, JSON, database defaults): COPY takes them as they are.
_COPYABLE_FIELDS = (
    models.AutoField,
    models.BigAutoField,
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.BigIntegerField,
    models.DateField,
    models.ForeignKey,
    models.OneToOneField,
)


def _copyable_fields(model: type[models.Model]) -> list[Any] | None:
    fields = []
    for f in model._meta.concrete_fields:
        if (
            type(f) not in _COPYABLE_FIELDS
            or f.generated
            or f.db_default is not NOT_PROVIDED
            or getattr(f, "auto_now", False)
            or getattr(f, "auto_now_add", False)
        ):
            return None
        fields.append(f)
    return fields


def _create(model: type[models.Model], objs: list[Any]) -> None:
    """`bulk_create` of new rows. On PostgreSQL, by COPY with ids drawn from the table's
    sequence first: a sixth of bulk_create's time in Python and half the database's, which
    for 100,000 people and their memberships is a third of the import."""
    if not objs:
        return
    conn = transaction.get_connection()
    fields = _copyable_fields(model) if conn.vendor == "postgresql" else None
    if fields is None or any(obj.pk is not None for obj in objs):
        model._default_manager.bulk_create(objs, batch_size=WRITE_BATCH)
        return
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    quote = conn.ops.quote_name
    table = quote(model._meta.db_table)
    names = [f.attname for f in fields]
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = conn.alias
        columns = ", ".join(quote(f.column) for f in fields)
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([getattr(obj, name) for name in names])


def _bump(objs: list[Any]) -> None:
    for obj in objs:
        obj.version = F("version") + 1


def _diffs(objs: list[Any]) -> dict[str, Any]:
    return {str(o.pk): o.audit_diff() for o in objs}


# ---- people and memberships ----------------------------------------------------------------

_EXAMPLE_ID = generate_resident_id("210102", dt.date(1985, 3, 5), 123)

PEOPLE_COLUMNS = (
    Column("姓名", "name", True, example="张三", aliases=("名字", "姓 名")),
    Column(
        "性别",
        "sex",
        kind=ColumnKind.CHOICE,
        choices=tuple((s.value, str(s.label)) for s in Sex),
        synonyms=(("M", "男性"), ("F", "女性")),
        help=gettext_lazy("可不填：按身份证号判断"),
        example="男",
        aliases=("gender",),
    ),
    Column(
        "身份证号",
        "id_number",
        True,
        ColumnKind.RESIDENT_ID,
        help=gettext_lazy("18位居民身份证号；同一身份证号再次导入时更新此人的信息"),
        example=_EXAMPLE_ID,
        aliases=("身份证号码", "公民身份号码", "身份证", "证件号码", "id number", "idnumber"),
    ),
    Column(
        "手机号",
        "phone",
        kind=ColumnKind.CODE,
        help=gettext_lazy("11位手机号，可带 +86 或空格"),
        example="13912345678",
        aliases=("手机号码", "手机", "联系电话", "电话", "mobile"),
    ),
    Column(
        "社区",
        "community",
        True,
        help=gettext_lazy("您管辖范围内的社区名称；重名时写“街道/社区”"),
        example="幸福社区",
        aliases=("所在社区", "所属社区", "社区名称"),
    ),
    Column(
        "住址",
        "address",
        example="和平区幸福路1号",
        aliases=("地址", "家庭住址", "居住地址", "现住址"),
    ),
    Column(
        "工作单位",
        "workplace",
        example="沈阳某某有限公司",
        aliases=("单位", "工作单位名称", "employer"),
    ),
    Column(
        "是否退休", "is_retired", kind=ColumnKind.BOOL, example="否", aliases=("退休", "retired")
    ),
    Column(
        "新就业形态",
        "new_employment_kind",
        kind=ColumnKind.CHOICE,
        choices=(*((k.value, str(k.label)) for k in NewEmploymentKind), (NO_NEW_EMPLOYMENT, "否")),
        synonyms=((NewEmploymentKind.OTHER, "是"), (NO_NEW_EMPLOYMENT, "无")),
        help=gettext_lazy("快递员、外卖骑手、网约车司机等；不是则填“否”"),
        example="否",
        aliases=("新就业形态劳动者", "新业态", "new employment"),
    ),
    Column(
        "会员证号",
        "card_number",
        kind=ColumnKind.CODE,
        help=gettext_lazy("工会会员填写；同一会员证号再次导入时更新会籍"),
        example="HP2020000123",
        aliases=("会员证号码", "会员卡号", "工会会员证号", "card number", "card"),
    ),
    Column(
        "所属工会",
        "union",
        help=gettext_lazy("不填则为所在社区的联合工会"),
        example="幸福社区联合工会",
        aliases=("工会", "工会名称"),
    ),
    Column(
        "入会时间",
        "joined_on",
        kind=ColumnKind.DATE,
        help=gettext_lazy("填写会员证号时必填，如 2020-01-15"),
        example="2020-01-15",
        aliases=("入会日期", "join date"),
    ),
    Column(
        "会员状态",
        "status",
        kind=ColumnKind.CHOICE,
        choices=tuple((s.value, str(s.label)) for s in MembershipStatus),
        help=gettext_lazy("不填为“正常”"),
        example="正常",
        aliases=("会籍状态",),
    ),
    Column(
        "终止日期",
        "ended_on",
        kind=ColumnKind.DATE,
        help=gettext_lazy("会员状态为“已转出”或“已退会”时填写"),
        aliases=("会籍终止日期", "退会日期"),
    ),
)

_PERSON_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "phone",
    "community",
    "address",
    "workplace",
    "is_retired",
    "new_employment_kind",
    "is_new_employment",
    "search_text",
    "version",
)
_ID_FIELDS = ("id_number_encrypted", "id_number_hash", "id_number_masked")


def _person_values(d: dict[str, Any]) -> dict[str, Any]:
    kind = d.get("new_employment_kind") or None
    return {
        "name": d["name"],
        "sex": d["sex"],
        "birth_date": d.get("birth_date"),
        "phone": d.get("phone") or None,
        "community": d["community"],
        "address": d.get("address") or None,
        "workplace": d.get("workplace") or None,
        "is_retired": d.get("is_retired"),
        "new_employment_kind": "" if kind == NO_NEW_EMPLOYMENT else kind,
    }


def _membership_problem(
    d: dict[str, Any],
    person: Person | None,
    stints: list[Membership],
    active_of: dict[int, Membership],
    ctx: Lookups,
) -> tuple[str, str] | Membership | None:
    """What to do with the row's membership: an error, the stint to update, or None (a new
    stint, or none at all)."""
    card = d.get("card_number")
    if not card:
        return None
    if any(person is None or m.person_id != person.pk for m in stints):
        return "card_number", _("会员证号 %(card)s 已登记在他人名下，请核对") % {"card": card}
    if stints:
        current = stints[0]
        if current.union_id not in ctx.visible_org_ids:
            return "union", _("该会员证号的会籍属于您管辖范围以外的工会")
        if current.union_id != d["union"].pk:
            return "union", _("所属工会与已登记的“%(union)s”不同；转会请在会员页面办理") % {
                "union": current.union.name
            }
        if current.status != d["status"]:
            return "status", _(
                "会员状态与已登记的“%(status)s”不同；转会、退会、恢复会籍请在会员页面办理"
            ) % {"status": current.get_status_display()}
        return current
    if person is not None and d["status"] == MembershipStatus.ACTIVE and person.pk in active_of:
        return "card_number", _("此人已有正常状态的会员证 %(card)s；换证或转会请在会员页面办理") % {
            "card": active_of[person.pk].card_number
        }
    return None


def _people_on_record(rows: list[Row]) -> tuple[dict[int, Person], set[int]]:
    """The record each row is about, by row number: the one with its ID number, else the
    single active record with the same name and phone and no ID number (entered before the
    number was known, the rule of services.person_find_duplicates) -- which then gets the
    number instead of a second record being made. Also the pks of those adopted records."""
    hashes = {r.number: _id_columns(r.data)[1] for r in rows}
    by_hash = {
        p.id_number_hash: p
        for p in Person.objects.filter(
            id_number_hash__in=set(hashes.values()), is_active=True
        ).order_by()
    }
    found = {n: by_hash[h] for n, h in hashes.items() if h in by_hash}
    unknown = [r for r in rows if r.number not in found and r.data.get("phone")]
    idless: dict[tuple[str, str], list[Person]] = defaultdict(list)
    if unknown:
        for p in Person.objects.filter(
            is_active=True, id_number_hash="", phone__in={r.data["phone"] for r in unknown}
        ).order_by():
            idless[(p.name, p.phone)].append(p)
    adopted: set[int] = set()
    for row in unknown:
        candidates = idless.get((row.data["name"], row.data["phone"]), [])
        if len(candidates) == 1 and candidates[0].pk not in adopted:
            found[row.number] = candidates[0]
            adopted.add(candidates[0].pk)
    return found, adopted


def people_upsert(rows: list[Row], ctx: Lookups) -> BatchOutcome:
    out = BatchOutcome()
    cards = {r.data["card_number"] for r in rows if r.data.get("card_number")}
    stints: dict[str, list[Membership]] = defaultdict(list)
    on_record, adopted = _people_on_record(rows)
    # No join to the unions: only a refusal names one (and loads it then).
    for m in Membership.objects.filter(card_number__in=cards).order_by("-joined_on", "-pk"):
        stints[m.card_number].append(m)
    active_of = {
        m.person_id: m
        for m in Membership.objects.filter(
            person_id__in=[p.pk for p in on_record.values()], status=MembershipStatus.ACTIVE
        ).order_by()
    }

    plan: list[tuple[Row, Person | None, Membership | None]] = []
    for row in rows:
        d = row.data
        person = on_record.get(row.number)
        if person is not None and person.community_id not in ctx.visible_community_ids:
            out.rejected.append(
                (
                    row.number,
                    "id_number",
                    _("该身份证号已登记在您管辖范围以外的社区；迁入请联系原社区或上级工会办理")
                    if person.pk not in adopted
                    else _(
                        "您管辖范围以外的社区已登记同名且手机号相同的居民；迁入请联系原社区或上级工会办理"
                    ),
                )
            )
            continue
        decision = _membership_problem(
            d, person, stints.get(d.get("card_number") or "", []), active_of, ctx
        )
        if isinstance(decision, tuple):
            out.rejected.append((row.number, *decision))
            continue
        plan.append((row, person, decision))

    created: list[Person] = []
    changed: list[Person] = []
    people: dict[int, Person] = {}
    _remember_search_keys([row for row, _p, _m in plan])
    for row, person, _m in plan:
        values = _person_values(row.data)
        if person is None:
            person = _built(Person, {"is_retired": False, "new_employment_kind": ""}, values)
            _set_id_number(person, row.data)
            fill_search_text(person)
            created.append(person)
        else:
            given_id = person.pk in adopted
            if given_id:
                _set_id_number(person, row.data)
            if _assign(person, values) or given_id:
                fill_search_text(person)
                changed.append(person)
        people[row.number] = person
    _create(Person, created)
    diffs = _diffs(changed)
    _bump(changed)
    Person.objects.bulk_update(changed, _PERSON_FIELDS, batch_size=WRITE_BATCH)
    Person.objects.bulk_update(
        [p for p in changed if p.pk in adopted], _ID_FIELDS, batch_size=WRITE_BATCH
    )

    new_stints: list[Membership] = []
    changed_stints: list[Membership] = []
    for row, _p, stint in plan:
        d = row.data
        if not d.get("card_number"):
            continue
        values = {
            "joined_on": d["joined_on"],
            "ended_on": d.get("ended_on"),
            "workplace": d.get("workplace") or None,
        }
        if stint is None:
            given = {
                "person": people[row.number],
                "union": d["union"],
                "card_number": d["card_number"],
                "status": d["status"],
                "workplace": "",
            }
            new_stints.append(_built(Membership, given, values))
        elif _assign(stint, values):
            changed_stints.append(stint)
    _create(Membership, new_stints)
    stint_diffs = _diffs(changed_stints)
    _bump(changed_stints)
    Membership.objects.bulk_update(
        changed_stints, ["joined_on", "ended_on", "workplace", "version"], batch_size=WRITE_BATCH
    )

    ctx.audit(AuditAction.CREATE, Person, [p.pk for p in created])
    ctx.audit(AuditAction.UPDATE, Person, [p.pk for p in changed], changes=diffs)
    ctx.audit(AuditAction.CREATE, Membership, [m.pk for m in new_stints])
    ctx.audit(AuditAction.UPDATE, Membership, [m.pk for m in changed_stints], changes=stint_diffs)
    out.imported = len(created)
    out.updated = len(plan) - len(created)
    return out


def _prepare_person(d: dict[str, Any]) -> None:
    # The name's search keys and the stored forms of the ID number (half the work of writing
    # a new person) are computed where the row is validated: on PostgreSQL a second process,
    # while this one writes.
    d["_search_keys"] = pinyin.search_keys(d["name"], is_person_name=True)
    d["_id_columns"] = _id_columns(d)


def _id_columns(d: dict[str, Any]) -> tuple[str, ...]:
    """What Person.set_id_number stores for the row's ID number (_ID_FIELDS: encrypted,
    search hash, masked)."""
    columns = d.get("_id_columns")
    if columns is None:
        holder = SimpleNamespace()  # the model's own rule, without building a Person
        Person.set_id_number(holder, d["id_number"])  # type: ignore[arg-type]
        columns = tuple(getattr(holder, f) for f in _ID_FIELDS)
    return columns


def _set_id_number(person: Person, d: dict[str, Any]) -> None:
    """person.set_id_number(d["id_number"]), with the values _prepare_person computed."""
    for name, value in zip(_ID_FIELDS, _id_columns(d), strict=True):
        setattr(person, name, value)
    person._id_number_changed = True  # as set_id_number marks it


def _remember_search_keys(rows: list[Row]) -> None:
    for row in rows:
        keys = row.data.get("_search_keys")
        if keys is not None:
            pinyin.remember(row.data["name"], is_person_name=True, keys=keys)


PEOPLE = ImportSpec(
    kind="people",
    title=gettext_lazy("居民与会员"),
    columns=PEOPLE_COLUMNS,
    parse_row=form_parser(PersonImportForm),
    prepare_row=_prepare_person,
    ref="sanlian.organizations.importers:PEOPLE",
    natural_key=lambda d: d["id_number"],
    key_field="id_number",
    unique_fields=("card_number",),
    upsert=people_upsert,
    make_context=_make_context,
    roles=frozenset(AREA_ROLES),
    instructions=(
        gettext_lazy(
            "身份证号是每个人的唯一标识：已登记的身份证号会更新此人的信息，空着的单元格不会清除已有内容。"
        ),
        gettext_lazy("社区必须在您的管辖范围内；范围以外的行不会导入，会在错误报告中说明原因。"),
    ),
)


# ---- organisations -------------------------------------------------------------------------

ORGANIZATION_COLUMNS = (
    Column(
        "名称",
        "name",
        True,
        example="幸福社会工作服务中心",
        aliases=("组织名称", "单位名称", "机构名称"),
    ),
    Column(
        "类型",
        "kind",
        True,
        ColumnKind.CHOICE,
        choices=tuple((k.value, str(k.label)) for k in IMPORTABLE_ORG_KINDS),
        example=str(OrgKind.SOCIAL_ORG.label),
        aliases=("组织类型", "type"),
    ),
    Column(
        "上级组织",
        "parent",
        True,
        help=gettext_lazy("您管辖范围内的组织名称或统一社会信用代码，如“幸福社区联合工会”"),
        example="幸福社区联合工会",
        aliases=("上级", "上级单位", "所属组织", "上级组织名称"),
    ),
    Column(
        "统一社会信用代码",
        "credit_code",
        kind=ColumnKind.CODE,
        help=gettext_lazy("18位；社会组织必填。同一代码再次导入时更新该组织"),
        example=make_credit_code("210102", 12345),
        aliases=("信用代码", "社会信用代码", "统一代码", "uscc"),
    ),
    Column("法定代表人", "legal_representative", example="李四", aliases=("法人", "法人代表")),
    Column("联系人", "contact_name", example="王五", aliases=("contact",)),
    Column(
        "联系电话",
        "contact_phone",
        kind=ColumnKind.CODE,
        example="13812345678",
        aliases=("电话", "手机号", "联系手机", "phone"),
    ),
    Column("地址", "address", example="和平区幸福路2号", aliases=("住所", "办公地址")),
)

_ORG_FIELDS = ("name", "legal_representative", "contact_name", "contact_phone", "address")


def organizations_upsert(rows: list[Row], ctx: Lookups) -> BatchOutcome:
    from .services.tree import lock_tree

    lock_tree()
    out = BatchOutcome()
    codes = {r.data["credit_code"] for r in rows if r.data["credit_code"]}
    by_code = {o.credit_code: o for o in Organization.objects.filter(credit_code__in=codes)}
    uncoded = [r for r in rows if not r.data["credit_code"]]
    by_place = {
        (o.name, o.parent_id): o
        for o in Organization.objects.filter(
            parent_id__in={r.data["parent"].pk for r in uncoded},
            name__in={r.data["name"] for r in uncoded},
        )
    }
    created: list[Organization] = []
    changed: list[Organization] = []
    for row in rows:
        d = row.data
        parent: Organization = d["parent"]
        org = by_code.get(d["credit_code"]) if d["credit_code"] else None
        org = org or by_place.get((d["name"], parent.pk))
        problem = _org_problem(org, d, ctx)
        if problem is not None:
            out.rejected.append((row.number, *problem))
            continue
        values = {f: d.get(f) or None for f in _ORG_FIELDS}
        if org is None:
            org = Organization(kind=d["kind"], parent=parent, credit_code=d["credit_code"])
            _assign(org, values)
            fill_search_text(org)
            created.append(org)
            out.imported += 1
            continue
        out.updated += 1
        if _assign(org, values):
            fill_search_text(org)
            changed.append(org)
    Organization.objects.bulk_create(created, batch_size=WRITE_BATCH)
    for org in created:
        assert org.parent is not None
        org.path = f"{org.parent.path}{org.pk}/"
    Organization.objects.bulk_update(created, ["path"], batch_size=WRITE_BATCH)
    diffs = _diffs(changed)
    _bump(changed)
    Organization.objects.bulk_update(
        changed, [*_ORG_FIELDS, "search_text", "version"], batch_size=WRITE_BATCH
    )
    ctx.audit(AuditAction.CREATE, Organization, [o.pk for o in created])
    ctx.audit(AuditAction.UPDATE, Organization, [o.pk for o in changed], changes=diffs)
    return out


def _org_problem(
    org: Organization | None, d: dict[str, Any], ctx: Lookups
) -> tuple[str, str] | None:
    if org is None:
        return None
    if org.pk not in ctx.visible_org_ids:
        return "credit_code", _("该统一社会信用代码已登记为您管辖范围以外的组织")
    if org.parent_id != d["parent"].pk:
        return "parent", _("该组织已登记在其他上级组织之下；调整上级请在组织架构页面办理")
    if org.kind != d["kind"]:
        return "kind", _("类型与已登记的“%(kind)s”不同") % {"kind": org.get_kind_display()}
    return None


ORGANIZATIONS = ImportSpec(
    kind="organizations",
    title=gettext_lazy("组织"),
    columns=ORGANIZATION_COLUMNS,
    parse_row=form_parser(OrganizationImportForm),
    natural_key=lambda d: (d["name"], d["parent"].pk),
    key_field="name",
    unique_fields=("credit_code",),
    upsert=organizations_upsert,
    make_context=_make_context,
    roles=frozenset(AREA_ROLES),
    instructions=(
        gettext_lazy(
            "有统一社会信用代码的组织按代码识别，没有的按“名称 + 上级组织”识别；再次导入时更新。"
        ),
        gettext_lazy("工会（区、街道、社区联合工会）随社区建立，不能通过导入新增。"),
    ),
)


# ---- social workers ------------------------------------------------------------------------

# Social workers and volunteers are people already registered: found by ID number, the name
# only checked against the record.
_REGISTERED_PERSON_COLUMNS = (
    Column(
        "身份证号",
        "id_number",
        True,
        ColumnKind.RESIDENT_ID,
        help=gettext_lazy("须已在“居民与会员”中登记"),
        example=_EXAMPLE_ID,
        aliases=("身份证号码", "公民身份号码", "身份证", "证件号码"),
    ),
    Column(
        "姓名", "name", help=gettext_lazy("用于核对，可不填"), example="张三", aliases=("名字",)
    ),
)

SOCIAL_WORKER_COLUMNS = (
    *_REGISTERED_PERSON_COLUMNS,
    Column(
        "所在机构",
        "organization",
        True,
        help=gettext_lazy("社会组织（社工机构）的名称或统一社会信用代码"),
        example="幸福社会工作服务中心",
        aliases=("机构", "所属机构", "社工机构", "工作机构"),
    ),
    Column(
        "职业资格",
        "qualification",
        kind=ColumnKind.CHOICE,
        choices=tuple((q.value, str(q.label)) for q in Qualification),
        synonyms=(
            (Qualification.ASSISTANT, "初级"),
            (Qualification.SOCIAL_WORKER, "中级"),
            (Qualification.SENIOR, "高级"),
        ),
        example=str(Qualification.SOCIAL_WORKER.label),
        aliases=("资格", "资格等级", "职业水平"),
    ),
    Column(
        "证书编号",
        "certificate_number",
        kind=ColumnKind.CODE,
        example="S2021210000123",
        aliases=("证书号", "资格证书编号", "证书号码"),
    ),
    Column(
        "取得时间",
        "certificate_date",
        kind=ColumnKind.DATE,
        example="2021-06-30",
        aliases=("取证时间", "取得日期"),
    ),
    Column(
        "督导",
        "is_supervisor",
        kind=ColumnKind.BOOL,
        example="否",
        aliases=("是否督导", "supervisor"),
    ),
    Column(
        "入职日期", "joined_on", kind=ColumnKind.DATE, example="2022-03-01", aliases=("入职时间",)
    ),
)

_WORKER_FIELDS = (
    "qualification",
    "certificate_number",
    "certificate_date",
    "is_supervisor",
    "joined_on",
)


def social_workers_upsert(rows: list[Row], ctx: Lookups) -> BatchOutcome:
    out = BatchOutcome()
    person_ids = [r.data["person"].pk for r in rows]
    existing = {w.person_id: w for w in SocialWorker.objects.filter(person_id__in=person_ids)}
    certs = {r.data["certificate_number"] for r in rows if r.data["certificate_number"]}
    cert_holder = dict(
        SocialWorker.objects.filter(certificate_number__in=certs).values_list(
            "certificate_number", "person_id"
        )
    )
    created: list[SocialWorker] = []
    changed: list[SocialWorker] = []
    employed: list[Person] = []
    for row in rows:
        d = row.data
        person: Person = d["person"]
        org: Organization = d["organization"]
        worker = existing.get(person.pk)
        holder = cert_holder.get(d["certificate_number"])
        if holder is not None and holder != person.pk:
            out.rejected.append(
                (row.number, "certificate_number", _("该证书编号已登记在其他社工名下，请核对"))
            )
            continue
        if worker is not None and worker.organization_id != org.pk:
            out.rejected.append(
                (
                    row.number,
                    "organization",
                    _("此人已登记为其他机构的社工；调动请在社工页面办理"),
                )
            )
            continue
        values = {f: d.get(f) for f in _WORKER_FIELDS}
        if worker is None:
            worker = SocialWorker(person=person, organization=org, is_supervisor=False)
            _assign(worker, values)
            created.append(worker)
            out.imported += 1
            if person.employer_id != org.pk:
                # As social_worker_create: the organisation becomes the person's employer.
                person.employer = org
                employed.append(person)
            continue
        out.updated += 1
        if _assign(worker, values):
            changed.append(worker)
    _create(SocialWorker, created)
    Person.objects.bulk_update(employed, ["employer"], batch_size=WRITE_BATCH)
    diffs = _diffs(changed)
    _bump(changed)
    SocialWorker.objects.bulk_update(changed, [*_WORKER_FIELDS, "version"], batch_size=WRITE_BATCH)
    ctx.audit(AuditAction.CREATE, SocialWorker, [w.pk for w in created])
    ctx.audit(AuditAction.UPDATE, SocialWorker, [w.pk for w in changed], changes=diffs)
    return out


SOCIAL_WORKERS = ImportSpec(
    kind="social_workers",
    title=gettext_lazy("社工"),
    columns=SOCIAL_WORKER_COLUMNS,
    parse_row=form_parser(SocialWorkerImportForm),
    natural_key=lambda d: d["id_number"],
    key_field="id_number",
    unique_fields=("certificate_number",),
    upsert=social_workers_upsert,
    make_context=_make_context,
    roles=frozenset({*AREA_ROLES, Role.SOCIAL_ORG_MANAGER}),
    instructions=(
        gettext_lazy("社工按身份证号识别，此人须已在“居民与会员”中登记；再次导入时更新。"),
    ),
)


# ---- volunteers ----------------------------------------------------------------------------

VOLUNTEER_COLUMNS = (
    *_REGISTERED_PERSON_COLUMNS,
    Column(
        "志愿服务队",
        "team",
        True,
        help=gettext_lazy("您管辖范围内的志愿服务队名称"),
        example="幸福社区志愿服务队",
        aliases=("服务队", "志愿队", "所属服务队", "队伍"),
    ),
    Column(
        "技能",
        "skills",
        help=gettext_lazy("用顿号分隔，如“助老、理发、法律咨询”"),
        example="助老、理发",
        aliases=("特长", "专长", "技能特长"),
    ),
    Column(
        "可服务时间",
        "availability",
        help=gettext_lazy(
            "如“周六上午、周日下午、工作日晚上”；可用周一至周日、工作日、周末、每天，加上午、下午、晚上、全天"
        ),
        example="周六上午、周日下午、工作日晚上",
        aliases=("服务时间", "空闲时间", "可服务时段"),
    ),
)


def volunteers_upsert(rows: list[Row], ctx: Lookups) -> BatchOutcome:
    out = BatchOutcome()
    existing = {
        v.person_id: v
        for v in Volunteer.objects.filter(person_id__in=[r.data["person"].pk for r in rows])
    }
    created: list[Volunteer] = []
    changed: list[Volunteer] = []
    for row in rows:
        d = row.data
        volunteer = existing.get(d["person"].pk)
        if volunteer is not None and volunteer.team_id not in ctx.visible_org_ids:
            out.rejected.append((row.number, "team", _("此人已是您管辖范围以外的志愿服务队的队员")))
            continue
        skills, other = d["skills"] if d.get("skills") else (None, None)
        values = {
            "team": d["team"],
            "skills": skills,
            "skills_other": other,
            "availability": d.get("availability") or None,
        }
        if volunteer is None:
            volunteer = Volunteer(person=d["person"], skills="", skills_other="", availability=[])
            _assign(volunteer, values)
            created.append(volunteer)
            out.imported += 1
            continue
        out.updated += 1
        if _assign(volunteer, values):
            changed.append(volunteer)
    _create(Volunteer, created)
    diffs = _diffs(changed)
    _bump(changed)
    Volunteer.objects.bulk_update(
        changed,
        ["team", "skills", "skills_other", "availability", "version"],
        batch_size=WRITE_BATCH,
    )
    ctx.audit(AuditAction.CREATE, Volunteer, [v.pk for v in created])
    ctx.audit(AuditAction.UPDATE, Volunteer, [v.pk for v in changed], changes=diffs)
    return out


VOLUNTEERS = ImportSpec(
    kind="volunteers",
    title=gettext_lazy("志愿者"),
    columns=VOLUNTEER_COLUMNS,
    parse_row=form_parser(VolunteerImportForm),
    natural_key=lambda d: d["id_number"],
    key_field="id_number",
    upsert=volunteers_upsert,
    make_context=_make_context,
    roles=frozenset(AREA_ROLES),
    instructions=(
        gettext_lazy("志愿者按身份证号识别，此人须已在“居民与会员”中登记；再次导入时更新。"),
    ),
)


SPECS: dict[str, ImportSpec] = {
    spec.kind: spec for spec in (PEOPLE, ORGANIZATIONS, SOCIAL_WORKERS, VOLUNTEERS)
}


def kinds_for(user: User) -> list[ImportSpec]:
    return [spec for spec in SPECS.values() if user.has_role(*spec.roles)]


def spec_for(user: User, kind: str) -> ImportSpec:
    spec = SPECS.get(kind)
    if spec is None or not user.has_role(*spec.roles):
        raise PermissionDenied
    return spec


# ---- runs ----------------------------------------------------------------------------------

SUFFIX = {"xlsx": ".xlsx", "xlsb": ".xlsb", "xls": ".xls", "ods": ".ods"}


def upload_path(run: TaskRun) -> Path:
    return imports_dir() / f"{run.pk}{run.params.get('suffix', '.xlsx')}"


def error_report_path(run: TaskRun) -> Path | None:
    name = (run.result or {}).get("error_report")
    path = imports_dir() / f"{run.pk}-errors.xlsx"
    return path if name and path.exists() else None


def import_start(
    *,
    by: User | None,
    kind: str,
    source: UploadedFile | Path,
    filename: str,
    file_format: str,
    dispatch: bool = True,
) -> TaskRun:
    """Keep the file in DATA_DIR/imports/<run id>.<ext> and queue its import (which starts
    once this transaction commits). `by` None is the shell's import of everything."""
    if by is not None:
        spec_for(by, kind)
    elif kind not in SPECS:
        raise KeyError(kind)
    with transaction.atomic():
        run = tasks.enqueue(
            IMPORT_TASK,
            {"kind": kind, "filename": filename[:200], "suffix": SUFFIX.get(file_format, ".xlsx")},
            user=by,
            # A failed run is retried under its own key (import_retry), never a new one.
            idempotency_key=f"import:{uuid.uuid4()}",
            dispatch=dispatch,
        )
        target = upload_path(run)
        with open(target, "wb") as out:
            if isinstance(source, Path):
                with open(source, "rb") as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
            else:
                for chunk in source.chunks():
                    out.write(chunk)
    return run


def import_retry(*, run: TaskRun) -> TaskRun:
    """Run a failed import again: it resumes after the last committed batch."""
    return tasks.enqueue(
        run.name, run.params, user=run.created_by, idempotency_key=run.idempotency_key
    )


def import_execute(*, run: TaskRun) -> dict[str, Any]:
    """The task body: import the run's file as its creator (resuming from its checkpoint)."""
    spec = SPECS[run.params["kind"]]
    user = run.created_by
    result = run_import(
        spec,
        path=upload_path(run),
        user=user,
        run=run,
        report_path=imports_dir() / f"{run.pk}-errors.xlsx",
    ).as_dict()
    result["filename"] = run.params.get("filename", "")
    audit.record(
        AuditAction.TASK,
        object_type="core.TaskRun",
        object_id=str(run.pk),
        object_repr=_("Excel导入：%(title)s") % {"title": spec.title},
        changes={k: v for k, v in result.items() if k != "ignored_columns"},
        actor_id=user.pk if user is not None else None,
        actor_name=user.username if user is not None else "import_xlsx",
    )
    return result

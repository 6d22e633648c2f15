"""Writes about people: registration with duplicate checks, tags, households, memberships
(join, transfer, withdrawal, reinstatement, dues and organisational life) and merging two
records of one person."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from sanlian.core import audit, crypto
from sanlian.core.models import AuditAction, User
from sanlian.core.roles import Role
from sanlian.core.validators import parse_resident_id

from ..models import (
    AREA_KINDS,
    Community,
    Household,
    HouseholdMember,
    Membership,
    MembershipStatus,
    NewEmploymentKind,
    Organization,
    Person,
    PersonTag,
    Relation,
    VulnerabilityTag,
)

# Union staff keep the register of residents and members; the Party secretary reads it.
PEOPLE_EDITORS = (Role.FEDERATION_STAFF, Role.AREA_STAFF, Role.COMMUNITY_CADRE)

# ---- duplicates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Duplicates:
    """Records already there for what is being entered (all areas: the caller shows only
    what the user may see). Same ID number = the same person; same name and phone = maybe."""

    same_id: Person | None = None
    same_name_phone: list[Person] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.same_id is not None or bool(self.same_name_phone)


def person_find_duplicates(
    *, id_number: str = "", name: str = "", phone: str = "", exclude: Person | None = None
) -> Duplicates:
    """The active records a new or edited entry would duplicate (also used by the import).
    `id_number` and `phone` are expected normalised (the form fields do it)."""
    people = Person.objects.active().select_related("community")
    if exclude is not None and exclude.pk is not None:
        people = people.exclude(pk=exclude.pk)
    same_id = (
        people.filter(id_number_hash=crypto.search_hash(id_number)).first() if id_number else None
    )
    same_name_phone = (
        list(people.filter(name=name.strip(), phone=phone).order_by("pk")[:10])
        if name.strip() and phone
        else []
    )
    return Duplicates(same_id=same_id, same_name_phone=same_name_phone)


# ---- people --------------------------------------------------------------------------------


@transaction.atomic
def person_create(
    *,
    name: str,
    community: Community,
    id_number: str = "",
    phone: str = "",
    sex: str = "",
    birth_date: dt.date | None = None,
    address: str = "",
    workplace: str = "",
    employer: Organization | None = None,
    is_retired: bool = False,
    new_employment_kind: str = "",
    is_new_employment: bool = False,
    tags: Collection[str] = (),
    confirmed_not_duplicate: bool = False,
) -> Person:
    """Register a resident. The same ID number twice is a duplicate, never a second person;
    the same name and phone is refused unless the caller confirmed it is someone else."""
    if id_number:
        try:
            rid = parse_resident_id(id_number)
        except ValidationError as exc:
            raise ValidationError({"id_number": exc.messages}) from exc
        id_number = rid.number
        sex = sex or rid.sex
        birth_date = birth_date or rid.birth_date
    if not sex:
        raise ValidationError({"sex": _("请选择性别或填写身份证号")})
    if is_new_employment and not new_employment_kind:
        new_employment_kind = NewEmploymentKind.OTHER
    duplicates = person_find_duplicates(id_number=id_number, name=name, phone=phone)
    if duplicates.same_id is not None:
        raise ValidationError(
            {"id_number": _("身份证号已登记，请勿重复录入（可在居民列表中按身份证号查找）")},
            code="duplicate_id",
        )
    if duplicates.same_name_phone and not confirmed_not_duplicate:
        raise ValidationError(
            _("已有同名且手机号相同的居民，请确认不是同一人后再登记"), code="possible_duplicate"
        )
    person = Person(
        name=name.strip(),
        community=community,
        phone=phone,
        sex=sex,
        birth_date=birth_date,
        address=address,
        workplace=workplace,
        employer=employer,
        is_retired=is_retired,
        new_employment_kind=new_employment_kind,
    )
    person.set_id_number(id_number)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as exc:  # the same ID number entered at the same moment
        raise ValidationError(
            {"id_number": _("身份证号已登记，请勿重复录入（可在居民列表中按身份证号查找）")},
            code="duplicate_id",
        ) from exc
    person_set_tags(person=person, tags=tags)
    return person


@transaction.atomic
def person_set_tags(*, person: Person, tags: Collection[str]) -> None:
    """Make the person's vulnerability tags exactly `tags` (each add and removal audited)."""
    unknown = set(tags) - set(VulnerabilityTag.values)
    if unknown:
        raise ValidationError({"tags": _("未知标签：%(t)s") % {"t": "、".join(sorted(unknown))}})
    have = {t.tag: t for t in PersonTag.objects.filter(person=person)}
    for tag, row in have.items():
        if tag not in tags:
            row.delete()
    for tag in VulnerabilityTag.values:
        if tag in tags and tag not in have:
            PersonTag.objects.create(person=person, tag=tag)


# ---- households ----------------------------------------------------------------------------


def _check_can_join(person: Person, community: Community) -> None:
    if person.community_id != community.pk:
        raise ValidationError(
            _("%(name)s 登记在%(c)s，不能加入其他社区的家庭")
            % {"name": person.name, "c": person.community.name}
        )
    link = HouseholdMember.objects.filter(person=person).select_related("household").first()
    if link is not None:
        raise ValidationError(
            _("%(name)s 已是「%(h)s」的成员，一个人只能属于一个家庭")
            % {"name": person.name, "h": link.household}
        )
    if not person.is_active:
        raise ValidationError(_("该记录已合并到其他记录，不能再加入家庭"))


@transaction.atomic
def household_create(*, head: Person, address: str = "") -> Household:
    """A household with `head` as its head (户主, relation 本人)."""
    _check_can_join(head, head.community)
    household = Household.objects.create(
        community=head.community, address=address or head.address, head=head
    )
    HouseholdMember.objects.create(household=household, person=head, relation=Relation.SELF)
    return household


@transaction.atomic
def household_add_member(*, household: Household, person: Person, relation: str) -> HouseholdMember:
    if relation == Relation.SELF:
        raise ValidationError({"relation": _("“本人”是户主自己；其他成员请选择与户主的关系")})
    if relation not in Relation.values:
        raise ValidationError({"relation": _("请选择与户主的关系")})
    _check_can_join(person, household.community)
    return HouseholdMember.objects.create(household=household, person=person, relation=relation)


@transaction.atomic
def household_remove_member(*, household: Household, person: Person) -> bool:
    """Take a member out; the head goes last, and with them the household. Returns whether
    the household still exists."""
    link = HouseholdMember.objects.filter(household=household, person=person).first()
    if link is None:
        raise ValidationError(_("%(name)s 不是该家庭的成员") % {"name": person.name})
    if household.head_id == person.pk:
        if household.members.exclude(pk=link.pk).exists():
            raise ValidationError(_("户主不能移出：请先移出其他成员"))
        link.delete()
        household.delete()
        return False
    link.delete()
    return True


# ---- memberships ---------------------------------------------------------------------------


def _check_card_number(card_number: str, person: Person) -> str:
    card_number = card_number.strip()
    if not card_number:
        raise ValidationError({"card_number": _("请填写会员证号")})
    other = Membership.objects.filter(card_number=card_number).exclude(person=person).first()
    if other is not None:
        raise ValidationError(
            {"card_number": _("会员证号 %(n)s 已属于其他会员") % {"n": card_number}}
        )
    return card_number


def _check_union(union: Organization) -> None:
    if union.kind not in AREA_KINDS:
        raise ValidationError({"union": _("%(o)s 不是工会组织") % {"o": union.name}})


def _check_no_active(person: Person) -> None:
    current = Membership.objects.active().filter(person=person).select_related("union").first()
    if current is not None:
        raise ValidationError(
            _("%(name)s 已是%(u)s的会员（会员证号 %(n)s）；转入其他工会请办理转会")
            % {"name": person.name, "u": current.union.name, "n": current.card_number}
        )


@transaction.atomic
def membership_join(
    *,
    person: Person,
    union: Organization,
    card_number: str,
    joined_on: dt.date,
    workplace: str = "",
) -> Membership:
    """入会."""
    _check_union(union)
    _check_no_active(person)
    if not person.is_active:
        raise ValidationError(_("该记录已合并到其他记录，不能入会"))
    card_number = _check_card_number(card_number, person)
    return Membership.objects.create(
        person=person,
        union=union,
        card_number=card_number,
        joined_on=joined_on,
        workplace=workplace or person.workplace,
    )


def _end(membership: Membership, *, status: str, on: dt.date, reason: str) -> None:
    if membership.status != MembershipStatus.ACTIVE:
        raise ValidationError(_("该会籍已终止（%(s)s）") % {"s": membership.get_status_display()})
    if on < membership.joined_on:
        raise ValidationError(
            {"on": _("日期不能早于入会时间 %(d)s") % {"d": f"{membership.joined_on:%Y-%m-%d}"}}
        )
    membership.status = status
    membership.ended_on = on
    membership.end_reason = reason[:200]
    membership.version += 1
    membership.save()


@transaction.atomic
def membership_transfer(
    *,
    membership: Membership,
    to_union: Organization,
    on: dt.date,
    card_number: str = "",
    workplace: str | None = None,
    reason: str = "",
) -> Membership:
    """转会: end the current stint as transferred and start one in `to_union` on the same day.
    The card number and the dues and organisational-life dates go along (the membership is
    continuous); returns the new stint."""
    _check_union(to_union)
    if to_union.pk == membership.union_id:
        raise ValidationError({"to_union": _("转入工会与当前所属工会相同")})
    person = membership.person
    number = _check_card_number(card_number or membership.card_number, person)
    from_union = membership.union
    _end(
        membership,
        status=MembershipStatus.TRANSFERRED,
        on=on,
        reason=reason or _("转入%(u)s") % {"u": to_union.name},
    )
    new = Membership.objects.create(
        person=person,
        union=to_union,
        card_number=number,
        joined_on=on,
        workplace=membership.workplace if workplace is None else workplace,
        last_dues_on=membership.last_dues_on,
        last_activity_on=membership.last_activity_on,
        previous=membership,
    )
    audit.record(
        AuditAction.UPDATE,
        obj=person,
        changes={
            "membership_transfer": {
                "from": [from_union.pk, from_union.name],
                "to": [to_union.pk, to_union.name],
                "on": on,
                "ended": membership.pk,
                "started": new.pk,
            }
        },
    )
    return new


@transaction.atomic
def membership_withdraw(*, membership: Membership, on: dt.date, reason: str) -> Membership:
    """退会, with its date and reason."""
    if not reason.strip():
        raise ValidationError({"reason": _("请填写退会原因")})
    _end(membership, status=MembershipStatus.WITHDRAWN, on=on, reason=reason.strip())
    return membership


@transaction.atomic
def membership_reinstate(
    *,
    membership: Membership,
    on: dt.date,
    union: Organization | None = None,
    card_number: str = "",
) -> Membership:
    """恢复会籍: a new stint after a withdrawal (the withdrawn one stays as history)."""
    if membership.status != MembershipStatus.WITHDRAWN:
        raise ValidationError(_("只有已退会的会籍可以恢复"))
    if Membership.objects.filter(previous=membership).exists():
        raise ValidationError(_("该会籍之后已有新的会籍记录"))
    if membership.ended_on is not None and on < membership.ended_on:
        raise ValidationError({"on": _("恢复日期不能早于退会日期")})
    union = union or membership.union
    _check_union(union)
    _check_no_active(membership.person)
    number = _check_card_number(card_number or membership.card_number, membership.person)
    return Membership.objects.create(
        person=membership.person,
        union=union,
        card_number=number,
        joined_on=on,
        workplace=membership.workplace,
        previous=membership,
    )


@transaction.atomic
def membership_record_life(
    *,
    membership: Membership,
    dues_on: dt.date | None = None,
    activity_on: dt.date | None = None,
    today: dt.date | None = None,
) -> Membership:
    """Record dues paid (缴纳会费) and/or organisational life attended (参加组织生活).
    A date earlier than the one recorded leaves it as it is."""
    if membership.status != MembershipStatus.ACTIVE:
        raise ValidationError(_("该会籍已终止，不能登记"))
    if dues_on is None and activity_on is None:
        raise ValidationError(_("请填写缴费日期或组织生活日期"))
    today = today or dt.date.today()
    for name, value in (("dues_on", dues_on), ("activity_on", activity_on)):
        if value is not None and value > today:
            raise ValidationError({name: _("日期不能晚于今天")})
        if value is not None and value < membership.joined_on:
            raise ValidationError({name: _("日期不能早于入会时间")})
    if dues_on is not None and (
        membership.last_dues_on is None or dues_on > membership.last_dues_on
    ):
        membership.last_dues_on = dues_on
    if activity_on is not None and (
        membership.last_activity_on is None or activity_on > membership.last_activity_on
    ):
        membership.last_activity_on = activity_on
    membership.version += 1
    membership.save()
    return membership


# ---- merging two records of one person -----------------------------------------------------


@dataclass(frozen=True)
class PersonLink:
    """How rows of one relation pointing at Person follow a merge. Apps whose models point
    at Person register one when the default (re-point them all; for a one-to-one relation,
    refuse when both records have a row) is not right for them."""

    relation: str  # "app_label.Model.field", e.g. "delivery.Case.person"
    # A reason the two records cannot be merged, or None.
    conflict: Callable[[Person, Person], str | None] | None = None
    # Move merge's rows to keep; returns how many moved.
    repoint: Callable[[Person, Person], int] | None = None


_links: dict[str, PersonLink] = {}


def register_person_link(link: PersonLink) -> None:
    _links[link.relation] = link


@dataclass(frozen=True)
class Relationship:
    key: str
    label: str
    model: type[models.Model]
    field_name: str
    one_to_one: bool

    def rows(self, person: Person) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(**{self.field_name: person})


def person_relations() -> list[Relationship]:
    """Every relation that points at Person, in every installed app."""
    out = []
    for rel in Person._meta.related_objects:
        model = rel.related_model
        if model is None or not isinstance(model, type):
            continue
        label = str(model._meta.verbose_name_plural)
        if isinstance(rel, models.ManyToManyRel):
            # Many-to-many: the rows of the join table that point at the person move.
            through = rel.through
            if through is None:
                continue
            for f in through._meta.get_fields():
                if isinstance(f, models.ForeignKey) and f.related_model is Person:
                    key = f"{model._meta.label}.{rel.remote_field.name}"
                    out.append(Relationship(key, label, through, f.name, one_to_one=False))
            continue
        remote = rel.remote_field
        key = f"{model._meta.label}.{remote.name}"
        out.append(Relationship(key, label, model, remote.name, one_to_one=rel.one_to_one))
    return out


@dataclass(frozen=True)
class MergePlan:
    keep: Person
    merge: Person
    moves: dict[str, int]  # relation label -> rows merge has
    fills: dict[str, tuple[Any, Any]]  # field -> (keep's, merge's) for keep's empty fields
    conflicts: list[str]

    @property
    def possible(self) -> bool:
        return not self.conflicts

    def fill_rows(self) -> list[tuple[str, Any]]:
        """(field label, value taken from merge) for the fields keep lacks."""
        rows = []
        for name, (_mine, theirs) in self.fills.items():
            label = _("身份证号") if name == "id_number" else _field(name).verbose_name
            rows.append((str(label), theirs))
        return rows


def _field(name: str) -> models.Field[Any, Any]:
    found = Person._meta.get_field(name)
    assert isinstance(found, models.Field)
    return found


FILLABLE = (
    "sex",
    "birth_date",
    "phone",
    "address",
    "workplace",
    "employer",
    "new_employment_kind",
)


def _default_conflict(rel: Relationship, keep: Person, merge: Person) -> str | None:
    if rel.one_to_one and rel.rows(keep).exists() and rel.rows(merge).exists():
        return _("两条记录都有%(what)s，请先处理其中一条") % {"what": rel.label}
    return None


def person_merge_plan(*, keep: Person, merge: Person) -> MergePlan:
    """What merging `merge` into `keep` would do, and whether it can."""
    conflicts: list[str] = []
    if keep.pk == merge.pk:
        conflicts.append(_("不能把一条记录合并到它自己"))
    if not keep.is_active or not merge.is_active:
        conflicts.append(_("已合并的记录不能再合并"))
    if keep.user_id and merge.user_id:
        conflicts.append(_("两条记录都关联了登录账号，请先解除其中一个"))
    keep_id, merge_id = keep.id_number_hash, merge.id_number_hash
    if keep_id and merge_id and keep_id != merge_id:
        conflicts.append(_("两条记录的身份证号不同，不是同一人"))
    moves: dict[str, int] = {}
    for rel in person_relations():
        link = _links.get(rel.key)
        check = link.conflict if link is not None and link.conflict is not None else None
        reason = check(keep, merge) if check is not None else _default_conflict(rel, keep, merge)
        if reason:
            conflicts.append(reason)
        count = rel.rows(merge).count()
        if count:
            moves[rel.label] = moves.get(rel.label, 0) + count
    fills = {}
    for name in (*FILLABLE, "id_number"):
        attname = "id_number_hash" if name == "id_number" else _field(name).attname
        if not getattr(keep, attname) and getattr(merge, attname):
            shown = merge.id_number_masked if name == "id_number" else getattr(merge, name)
            fills[name] = (getattr(keep, name, ""), shown)
    return MergePlan(keep=keep, merge=merge, moves=moves, fills=fills, conflicts=conflicts)


@transaction.atomic
def person_merge(*, keep: Person, merge: Person, by: User | None) -> Person:
    """Merge two records of one person: every link of `merge` moves to `keep`, keep's empty
    fields are filled from merge, and merge is retired (inactive, merged_into keep). One
    audit entry lists what moved; nothing is written when the merge cannot be done."""
    # Lock both rows (in id order) so nothing is added to either while we move links.
    locked = {
        p.pk: p
        for p in Person.objects.select_for_update()
        .filter(pk__in=[keep.pk, merge.pk])
        .order_by("pk")
    }
    keep, merge = locked.get(keep.pk, keep), locked.get(merge.pk, merge)
    plan = person_merge_plan(keep=keep, merge=merge)
    if not plan.possible:
        raise ValidationError(plan.conflicts)
    moved: dict[str, int] = {}
    for rel in person_relations():
        link = _links.get(rel.key)
        if link is not None and link.repoint is not None:
            count = link.repoint(keep, merge)
        else:
            try:
                with transaction.atomic():
                    count = rel.rows(merge).update(**{rel.field_name: keep})
            except IntegrityError as exc:
                raise ValidationError(
                    _("两条记录在「%(what)s」中有相互冲突的记录，请先处理") % {"what": rel.label}
                ) from exc
        if count:
            moved[rel.key] = count
    # Retire merge first: its ID number (if keep takes it) must leave the active records.
    user = merge.user
    Person.objects.filter(pk=merge.pk).update(
        is_active=False, merged_into=keep, user=None, version=F("version") + 1
    )
    filled = {}
    for name in FILLABLE:
        attname = _field(name).attname
        if not getattr(keep, attname) and getattr(merge, attname):
            setattr(keep, attname, getattr(merge, attname))
            filled[name] = getattr(merge, attname)
    if not keep.id_number_hash and merge.id_number_hash:
        keep.id_number_encrypted = merge.id_number_encrypted
        keep.id_number_hash = merge.id_number_hash
        keep.id_number_masked = merge.id_number_masked
        filled["id_number"] = merge.id_number_masked
    if keep.user_id is None and user is not None:
        keep.user = user
        filled["user"] = user.pk
    keep.version += 1
    keep.refresh_derived()
    keep._skip_audit = True  # type: ignore[attr-defined]  # the merge entry below says it all
    keep.save()
    keep._skip_audit = False  # type: ignore[attr-defined]
    audit.record(
        AuditAction.UPDATE,
        obj=keep,
        actor_id=by.pk if by is not None else None,
        actor_name=by.get_username() if by is not None else None,
        changes={
            "merge": {"merged": merge.pk, "name": merge.name, "moved": moved, "filled": filled}
        },
    )
    return keep


# Relations whose rows need more than a re-point.


def _membership_conflict(keep: Person, merge: Person) -> str | None:
    actives = list(
        Membership.objects.active().filter(person__in=[keep, merge]).order_by("person_id")
    )
    if len(actives) == 2:
        return _("两条记录都有有效会籍（会员证号 %(a)s、%(b)s），请先为其中一条办理退会") % {
            "a": actives[0].card_number,
            "b": actives[1].card_number,
        }
    return None


def _household_conflict(keep: Person, merge: Person) -> str | None:
    links = {h.person_id: h for h in HouseholdMember.objects.filter(person__in=[keep, merge])}
    if len(links) == 2 and links[keep.pk].household_id != links[merge.pk].household_id:
        return _("两条记录分属不同的家庭，请先将其中一条移出家庭")
    return None


def _household_repoint(keep: Person, merge: Person) -> int:
    theirs = HouseholdMember.objects.filter(person=merge).first()
    if theirs is None:
        return 0
    mine = HouseholdMember.objects.filter(person=keep).first()
    if mine is None:
        return HouseholdMember.objects.filter(pk=theirs.pk).update(person=keep)
    # Both in the same household: one row stays; keep takes the head's place if merge had it.
    theirs.delete()
    if theirs.relation == Relation.SELF:
        HouseholdMember.objects.filter(pk=mine.pk).update(relation=Relation.SELF)
    return 1


def _tags_repoint(keep: Person, merge: Person) -> int:
    have = set(PersonTag.objects.filter(person=keep).values_list("tag", flat=True))
    PersonTag.objects.filter(person=merge, tag__in=have).delete()
    return PersonTag.objects.filter(person=merge).update(person=keep)


register_person_link(PersonLink("organizations.Membership.person", conflict=_membership_conflict))
register_person_link(
    PersonLink(
        "organizations.HouseholdMember.person",
        conflict=_household_conflict,
        repoint=_household_repoint,
    )
)
register_person_link(PersonLink("organizations.PersonTag.person", repoint=_tags_repoint))

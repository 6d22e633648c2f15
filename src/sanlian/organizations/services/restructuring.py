"""Restructuring areas: move a community to another street, merge two, split one in two.

Every record that hangs on a community follows it. What follows is a registry of
`Follower`s: each names the rows of one model that go with a restructuring `Plan` and, when
the rows point at the community (or its union) directly, how to re-point them. Later apps
register their models in their AppConfig.ready():

    from sanlian.organizations.services import restructuring as r
    r.register(r.follows_community(Case, label=_("个案"), person_field="person"))
    r.register(r.follows_tree(Contract, "supplier", label=_("合同")))

Models with a ForeignKey to Community that nobody registered are found and follow by that
key (`follows_community`); rows that hang on an organisation below the community union
follow without any write, because the organisation moves with its subtree. A preview lists
per follower how many rows (and which) move, with the warnings of followers that have
`notes` (households split between two communities, say); the execution moves exactly those
rows and writes one audit entry with the same counts and ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import reduce
from operator import or_
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sanlian.core import audit
from sanlian.core.models import AuditAction, AuditEntry, User, VersionedModel
from sanlian.core.scoping import NOTHING

from ..models import (
    Community,
    CommunityAreaPeriod,
    Household,
    HouseholdMember,
    Membership,
    Organization,
    OrgKind,
    Person,
    SocialWorker,
    Venue,
    Volunteer,
)
from .tree import (
    _move_subtree,
    _retire,
    check_effective_date,
    check_parent,
    community_create,
    lock_tree,
    require_common_scope,
    set_community_area,
)

MOVE, MERGE, SPLIT = "move", "merge", "split"
KIND_LABELS = {
    MOVE: gettext_lazy("迁移到其他街道"),
    MERGE: gettext_lazy("并入其他社区"),
    SPLIT: gettext_lazy("拆分出新社区"),
}
CHUNK = 5000


@dataclass(frozen=True)
class Plan:
    """What a restructuring moves, before it happens (the target of a split does not exist
    yet while it is previewed)."""

    kind: str
    source: Community
    target: Community | None = None
    # Organisation subtrees that move as a whole (rows hanging on them follow by themselves).
    moving_paths: tuple[str, ...] = ()
    # People who change community; None: all of them (move, merge).
    person_ids: frozenset[int] | None = None

    @property
    def source_union(self) -> Organization:
        return self.source.organization

    @property
    def changes_community(self) -> bool:
        """Rows pointing at the community itself are re-pointed (a move keeps the community)."""
        return self.kind in (MERGE, SPLIT)


Rows = Callable[[Plan], Q]
Repoint = Callable[[Plan, models.QuerySet[Any]], int]
Notes = Callable[[Plan], list[str]]


@dataclass(frozen=True)
class Follower:
    """One kind of record that follows a community: which rows move, how they are re-pointed
    (None: they follow through the tree and need no write)."""

    label: str | Promise
    model: type[models.Model]
    rows: Rows
    repoint: Repoint | None = None
    # Registry key; the model's label unless a model needs more than one follower.
    name: str = ""
    # Warnings for the preview about rows this plan leaves in an odd state.
    notes: Notes | None = None

    @property
    def key(self) -> str:
        return self.name or self.model._meta.label


_registry: dict[str, Follower] = {}
_excluded: set[str] = set()


def register(follower: Follower) -> Follower:
    """Add (or replace) a follower: the one of its model unless it is given a `name`."""
    _registry[follower.key] = follower
    return follower


def exclude(model: type[models.Model]) -> None:
    """A model with a ForeignKey to Community that must stay put (it is no record *of* it)."""
    _excluded.add(model._meta.label)


def _label(model: type[models.Model], label: str | Promise | None) -> str | Promise:
    return label or model._meta.verbose_name_plural or model.__name__


def _bump(model: type[models.Model]) -> dict[str, Any]:
    """A re-pointed row is a new version: an edit form opened before is stale."""
    return {"version": F("version") + 1} if issubclass(model, VersionedModel) else {}


def _person_q(plan: Plan, person_field: str | None) -> Q:
    if plan.person_ids is None:
        return Q()
    if person_field is None:
        return NOTHING
    return Q(**{f"{person_field}__in": plan.person_ids})


def _subtree_q(plan: Plan, field_name: str) -> Q:
    prefix = f"{field_name}__path__startswith" if field_name else "path__startswith"
    if not plan.moving_paths:
        return NOTHING
    return reduce(or_, (Q(**{prefix: p}) for p in plan.moving_paths))


def follows_community(
    model: type[models.Model],
    field_name: str = "community",
    *,
    label: str | Promise | None = None,
    person_field: str | None = None,
) -> Follower:
    """Rows with a ForeignKey to Community: all of them go with a move or a merge; in a split
    those of the people who move (through `person_field`), none if the model has no person."""

    def rows(plan: Plan) -> Q:
        return Q(**{field_name: plan.source}) & _person_q(plan, person_field)

    def repoint(plan: Plan, qs: models.QuerySet[Any]) -> int:
        return qs.filter(**{field_name: plan.source}).update(
            **{field_name: plan.target}, **_bump(model)
        )

    return Follower(_label(model, label), model, rows, repoint)


def follows_tree(
    model: type[models.Model], field_name: str, *, label: str | Promise | None = None
) -> Follower:
    """Rows hanging on an organisation (through `field_name`) that moves with its subtree."""

    def rows(plan: Plan) -> Q:
        return _subtree_q(plan, field_name)

    return Follower(_label(model, label), model, rows, None)


def follows_union(
    model: type[models.Model],
    field_name: str,
    *,
    label: str | Promise | None = None,
    person_field: str | None = None,
) -> Follower:
    """Like `follows_tree`, and rows pointing at the community union itself are re-pointed
    to the receiving union (a membership of the union, say): all in a merge, those of the
    people who move in a split."""

    def rows(plan: Plan) -> Q:
        direct = Q(**{field_name: plan.source_union}) & _person_q(plan, person_field)
        return _subtree_q(plan, field_name) | direct

    def repoint(plan: Plan, qs: models.QuerySet[Any]) -> int:
        assert plan.target is not None
        return qs.filter(**{field_name: plan.source_union}).update(
            **{field_name: plan.target.organization}, **_bump(model)
        )

    return Follower(_label(model, label), model, rows, repoint)


def _organizations(plan: Plan) -> Q:
    # The organisations under the community union (not the union itself).
    return _subtree_q(plan, "") & ~Q(pk=plan.source_union.pk)


# A venue belongs to the community itself or to one organisation.
_VENUE_PARTS = (follows_community(Venue), follows_union(Venue, "organization"))


def _venue_rows(plan: Plan) -> Q:
    return reduce(or_, (part.rows(plan) for part in _VENUE_PARTS))


def _venue_repoint(plan: Plan, qs: models.QuerySet[Any]) -> int:
    return sum(part.repoint(plan, qs) for part in _VENUE_PARTS if part.repoint is not None)


# A household goes where its head goes: with all its members, or (members on both sides of a
# split) with the head, and the preview names it.
HOUSEHOLD_NOTE_LIMIT = 20


def _split_households(plan: Plan) -> list[str]:
    if plan.person_ids is None:
        return []
    links = HouseholdMember.objects.filter(household__community=plan.source)
    moving = links.filter(person_id__in=plan.person_ids).values("household_id")
    staying = links.exclude(person_id__in=plan.person_ids).values("household_id")
    mixed = (
        Household.objects.filter(community=plan.source, pk__in=moving)
        .filter(pk__in=staying)
        .select_related("head")
        .order_by("pk")
    )
    total = mixed.count()
    if not total:
        return []
    names = [
        _("%(household)s（随户主划入新社区）") % {"household": h}
        if h.head_id in plan.person_ids
        else _("%(household)s（随户主留在原社区）") % {"household": h}
        for h in mixed[:HOUSEHOLD_NOTE_LIMIT]
    ]
    more = _("等 %(n)d 户") % {"n": total} if total > HOUSEHOLD_NOTE_LIMIT else ""
    return [
        _(
            "%(n)d 户家庭的成员分属原社区和新社区，家庭随户主所在社区：%(names)s%(more)s。"
            "请核对这些家庭的成员。"
        )
        % {"n": total, "names": "、".join(names), "more": more}
    ]


register(Follower(gettext_lazy("组织"), Organization, _organizations))
register(follows_community(Person, label=gettext_lazy("居民"), person_field="pk"))
register(
    replace(
        follows_community(Household, label=gettext_lazy("家庭"), person_field="head"),
        notes=_split_households,
    )
)
register(follows_union(Membership, "union", label=gettext_lazy("会员"), person_field="person"))
register(follows_tree(SocialWorker, "organization", label=gettext_lazy("社工")))
register(follows_tree(Volunteer, "team", label=gettext_lazy("志愿者")))
register(Follower(gettext_lazy("场地"), Venue, _venue_rows, _venue_repoint))
# The history of a community is its own, never another's.
exclude(CommunityAreaPeriod)
exclude(Community)


def followers() -> list[Follower]:
    """The registered followers, then every other model with a ForeignKey to Community."""
    found = dict(_registry)
    for model in apps.get_models():
        label = model._meta.label
        if label in found or label in _excluded:
            continue
        for f in model._meta.concrete_fields:
            if (
                isinstance(f, models.ForeignKey)
                and not isinstance(f, models.OneToOneField)
                and f.related_model is Community
            ):
                person = next(
                    (
                        p.name
                        for p in model._meta.concrete_fields
                        if isinstance(p, models.ForeignKey) and p.related_model is Person
                    ),
                    None,
                )
                found[label] = follows_community(model, f.name, person_field=person)
                break
    return list(found.values())


# ---- preview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewLine:
    key: str
    label: str
    ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Preview:
    plan: Plan
    lines: tuple[PreviewLine, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def digest(self) -> str:
        """Fingerprint of what moves: a confirmation is refused if it changed since."""
        payload = json.dumps([[ln.key, list(ln.ids)] for ln in self.lines])
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    @property
    def total(self) -> int:
        return sum(ln.count for ln in self.lines)

    def count(self, key: str) -> int:
        return next((ln.count for ln in self.lines if ln.key == key), 0)

    def summary(self) -> dict[str, Any]:
        return {ln.key: {"count": ln.count, "ids": list(ln.ids)} for ln in self.lines}


def preview(plan: Plan) -> Preview:
    lines = []
    notes: list[str] = []
    for f in followers():
        ids = (
            f.model._default_manager.filter(f.rows(plan))
            .order_by("pk")
            .values_list("pk", flat=True)
            .distinct()
        )
        lines.append(PreviewLine(f.key, str(f.label), tuple(ids)))
        if f.notes is not None:
            notes.extend(f.notes(plan))
    return Preview(plan, tuple(lines), tuple(notes))


def _check_digest(current: Preview, expected: str | None) -> None:
    if expected is not None and expected != current.digest:
        raise ValidationError(
            _("预览之后数据已有变化，请核对新的预览后再确认。"), code="stale_preview"
        )


def _repoint(result: Preview, plan: Plan) -> None:
    by_key = {f.key: f for f in followers()}
    for line in result.lines:
        follower = by_key[line.key]
        if follower.repoint is None or not line.ids:
            continue
        try:
            with transaction.atomic():
                for start in range(0, len(line.ids), CHUNK):
                    chunk = line.ids[start : start + CHUNK]
                    follower.repoint(plan, follower.model._default_manager.filter(pk__in=chunk))
        except IntegrityError as exc:
            raise ValidationError(
                _("%(label)s无法随社区调整（与目标社区的记录冲突）：%(error)s")
                % {"label": line.label, "error": exc},
                code="conflict",
            ) from exc


def _record(kind: str, source: Community, result: Preview, on: dt.date, **extra: Any) -> AuditEntry:
    return audit.record(
        AuditAction.UPDATE,
        obj=source,
        changes={"restructure": kind, "effective_on": on, **extra, "moved": result.summary()},
    )


def _locked(*communities: Community) -> list[Community]:
    pks = [c.pk for c in communities]
    rows = {
        c.pk: c
        for c in Community.objects.select_for_update(of=("self",))
        .select_related("organization", "street", "district")
        .filter(pk__in=pks)
    }
    return [rows[pk] for pk in pks]


def _require_active(*communities: Community) -> None:
    for c in communities:
        if not c.organization.is_active:
            raise ValidationError(_("%(name)s已撤销或已被合并") % {"name": c.name})


# ---- (a) move to another street ----------------------------------------------------------------


def move_plan(community: Community) -> Plan:
    return Plan(MOVE, community, moving_paths=(community.organization.path,))


def _move_checks(community: Community, street: Organization) -> None:
    _require_active(community)
    if street.pk == community.organization.parent_id:
        raise ValidationError({"street": _("社区已在该街道")})
    check_parent(OrgKind.COMMUNITY_UNION, street)


def community_move_preview(*, community: Community, street: Organization) -> Preview:
    _move_checks(community, street)
    return preview(move_plan(community))


@transaction.atomic
def community_move(
    *,
    community: Community,
    street: Organization,
    by: User,
    effective_on: dt.date | None = None,
    expected_digest: str | None = None,
) -> Preview:
    """The community (its union and everything below) hangs under another street from
    `effective_on`; reports for earlier dates keep it under the old street."""
    on = effective_on or timezone.localdate()
    lock_tree()
    (community,) = _locked(community)
    street = Organization.objects.select_for_update().get(pk=street.pk)
    _move_checks(community, street)
    union = community.organization
    old_street = union.parent
    assert old_street is not None and street.parent is not None
    require_common_scope(by, old_street, street)
    check_effective_date([community], on)
    result = preview(move_plan(community))
    _check_digest(result, expected_digest)
    _move_subtree(union, street)
    set_community_area(community, street=street, district=street.parent, on=on)
    _record(
        MOVE,
        community,
        result,
        on,
        street=[old_street.pk, street.pk],
        district=[old_street.parent_id, street.parent_id],
    )
    return result


# ---- (b) merge B into A ----------------------------------------------------------------------


def merge_plan(source: Community, target: Community) -> Plan:
    children = tuple(
        Organization.objects.filter(parent=source.organization).values_list("path", flat=True)
    )
    return Plan(MERGE, source, target, moving_paths=children)


def _merge_checks(source: Community, target: Community) -> None:
    if source.pk == target.pk:
        raise ValidationError({"target": _("不能把社区并入它自己")})
    _require_active(source, target)


def community_merge_preview(*, source: Community, target: Community) -> Preview:
    _merge_checks(source, target)
    users = User.objects.filter(organization=source.organization, is_active=True).count()
    notes = (
        (
            _(
                "%(name)s联合工会有 %(n)d 个账号，合并后它们仍属于已撤销的原联合工会，"
                "请在账号管理中调整其所属组织。"
            )
            % {"name": source.name, "n": users},
        )
        if users
        else ()
    )
    result = preview(merge_plan(source, target))
    return Preview(result.plan, result.lines, (*notes, *result.notes))


@transaction.atomic
def community_merge(
    *,
    source: Community,
    target: Community,
    by: User,
    effective_on: dt.date | None = None,
    expected_digest: str | None = None,
) -> Preview:
    """B (`source`) is merged into A (`target`): its people, organisations, memberships and
    everything else follow A; B is retired (kept, with `merged_into` = A), not deleted."""
    on = effective_on or timezone.localdate()
    lock_tree()
    source, target = _locked(source, target)
    _merge_checks(source, target)
    require_common_scope(by, source.organization, target.organization)
    check_effective_date([source, target], on)
    plan = merge_plan(source, target)
    result = preview(plan)
    _check_digest(result, expected_digest)
    _repoint(result, plan)
    for child in Organization.objects.filter(parent=source.organization).order_by("pk"):
        _move_subtree(child, target.organization)
    _retire(
        source.organization,
        on=on,
        reason=_("并入%(name)s") % {"name": target.name},
    )
    Community.objects.filter(pk=source.pk).update(merged_into=target, version=F("version") + 1)
    Community.objects.filter(pk=target.pk).update(
        population=F("population") + source.population,
        worker_count=F("worker_count") + source.worker_count,
        retiree_count=F("retiree_count") + source.retiree_count,
        version=F("version") + 1,
    )
    _record(MERGE, source, result, on, merged_into=target.pk)
    return result


# ---- (c) split one community in two ----------------------------------------------------------


def people_to_split(
    community: Community, *, address_prefixes: Iterable[str] = (), person_ids: Iterable[int] = ()
) -> frozenset[int]:
    """The people of `community` chosen by id or whose address starts with a prefix."""
    prefixes = [p.strip() for p in address_prefixes if p.strip()]
    wanted = Q(pk__in=list(person_ids))
    for p in prefixes:
        wanted |= Q(address__startswith=p)
    return frozenset(
        Person.objects.filter(community=community).filter(wanted).values_list("pk", flat=True)
    )


def split_plan(
    community: Community, *, person_ids: frozenset[int], organization_ids: Iterable[int]
) -> Plan:
    children = Organization.objects.filter(parent=community.organization)
    wanted = set(organization_ids)
    strangers = wanted - set(children.values_list("pk", flat=True))
    if strangers:
        raise ValidationError(
            {"organizations": _("只能选择本社区联合工会下的组织")}, code="not_a_child"
        )
    paths = tuple(children.filter(pk__in=wanted).order_by("pk").values_list("path", flat=True))
    return Plan(SPLIT, community, moving_paths=paths, person_ids=person_ids)


def _split_checks(community: Community, plan: Plan) -> None:
    _require_active(community)
    if not plan.person_ids and not plan.moving_paths:
        raise ValidationError(_("请至少选择一名居民或一个组织划入新社区"), code="empty")
    strangers = (plan.person_ids or frozenset()) - set(
        Person.objects.filter(community=community).values_list("pk", flat=True)
    )
    if strangers:
        raise ValidationError({"people": _("只能选择本社区的居民")}, code="not_a_resident")


def community_split_preview(
    *, community: Community, person_ids: frozenset[int], organization_ids: Iterable[int]
) -> Preview:
    plan = split_plan(community, person_ids=person_ids, organization_ids=organization_ids)
    _split_checks(community, plan)
    return preview(plan)


@dataclass(frozen=True)
class SplitResult:
    new: Community
    preview: Preview


@transaction.atomic
def community_split(
    *,
    community: Community,
    name: str,
    by: User,
    person_ids: frozenset[int],
    organization_ids: Iterable[int] = (),
    tier: str = "",
    address: str = "",
    population: int = 0,
    worker_count: int = 0,
    retiree_count: int = 0,
    effective_on: dt.date | None = None,
    expected_digest: str | None = None,
) -> SplitResult:
    """A new community (with its union, in the same street) takes the chosen people and
    organisations of `community`; the population counts given move over with them."""
    on = effective_on or timezone.localdate()
    organization_ids = list(organization_ids)
    lock_tree()
    (community,) = _locked(community)
    street = community.organization.parent
    assert street is not None
    require_common_scope(by, street)
    plan = split_plan(community, person_ids=person_ids, organization_ids=organization_ids)
    _split_checks(community, plan)
    check_effective_date([community], on)
    for field_name, n in (
        ("population", population),
        ("worker_count", worker_count),
        ("retiree_count", retiree_count),
    ):
        if n > getattr(community, field_name):
            raise ValidationError(
                {
                    field_name: _("不能超过原社区的数量（%(n)d）")
                    % {"n": getattr(community, field_name)}
                }
            )
    result = preview(plan)
    _check_digest(result, expected_digest)
    new = community_create(
        by=by,
        street=street,
        name=name,
        tier=tier or community.tier,
        population=population,
        worker_count=worker_count,
        retiree_count=retiree_count,
        address=address,
        audited=False,
    )
    CommunityAreaPeriod.objects.filter(community=new).update(valid_from=on)
    plan = Plan(SPLIT, community, new, plan.moving_paths, plan.person_ids)
    _repoint(result, plan)
    for child in Organization.objects.filter(pk__in=organization_ids).order_by("pk"):
        _move_subtree(child, new.organization)
    Community.objects.filter(pk=community.pk).update(
        population=F("population") - population,
        worker_count=F("worker_count") - worker_count,
        retiree_count=F("retiree_count") - retiree_count,
        version=F("version") + 1,
    )
    _record(
        SPLIT,
        community,
        result,
        on,
        new_community=new.pk,
        new_union=new.organization_id,
        counts={
            "population": population,
            "worker_count": worker_count,
            "retiree_count": retiree_count,
        },
    )
    return SplitResult(new, result)


__all__ = [
    "KIND_LABELS",
    "MERGE",
    "MOVE",
    "SPLIT",
    "Follower",
    "Plan",
    "Preview",
    "PreviewLine",
    "SplitResult",
    "community_merge",
    "community_merge_preview",
    "community_move",
    "community_move_preview",
    "community_split",
    "community_split_preview",
    "exclude",
    "followers",
    "follows_community",
    "follows_tree",
    "follows_union",
    "people_to_split",
    "preview",
    "register",
    "set_community_area",
]

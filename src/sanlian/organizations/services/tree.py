"""Writes on the organisation tree: create, move and retire organisations, create communities.

Every write takes the tree lock first, so that two moves never interleave their path
rewrites; objects handed in are re-read under the lock (their paths may be stale).
Moving a subtree is one UPDATE that replaces the path prefix of the node and all below it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from sanlian.core import audit
from sanlian.core.models import AuditAction, User
from sanlian.core.scoping import scope_for

from ..models import (
    PARENT_KINDS,
    Community,
    CommunityAreaPeriod,
    Organization,
    OrgKind,
    Person,
    Tier,
)

# Kinds created through the generic organisation form; the federation is the one root and a
# community union comes with its community (community_create).
CREATABLE_KINDS = tuple(
    k for k in OrgKind if k not in (OrgKind.FEDERATION, OrgKind.COMMUNITY_UNION)
)
# Fields of an organisation a creator may fill in.
ORG_FIELDS = (
    "credit_code",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "address",
    "service_fields",
    "rating",
    "registration_date",
    "business_scope",
)


def lock_tree() -> None:
    """Serialise writes to the tree (rare; a path rewrite must not race another)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(7310002)")
    # SQLite: transactions are IMMEDIATE, the writer holds the database lock already.


def common_ancestor_path(*paths: str) -> str:
    """The materialized path of the deepest node above (or at) all of `paths`."""
    split = [p.strip("/").split("/") for p in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/" + "".join(f"{p}/" for p in common) if common else "/"


def covers(user: User, path: str) -> bool:
    """Whether the user's area includes the node at `path` (and so all below it)."""
    scope = scope_for(user)
    return scope.area_path is not None and path.startswith(scope.area_path)


def require_common_scope(user: User, *nodes: Organization) -> None:
    """A change that touches several places of the tree needs the scope of their nearest
    common ancestor: moving C1 from S1 (D1) to S2 (D2) is for city staff, within D1 for D1."""
    ancestor = common_ancestor_path(*(n.path for n in nodes))
    if covers(user, ancestor):
        return
    node = Organization.objects.filter(path=ancestor).first()
    raise ValidationError(
        _("这项调整涉及的组织超出您的管辖范围，需由它们的共同上级（%(name)s）或更上级办理。")
        % {"name": node.name if node else "—"},
        code="scope",
    )


def _fresh(org: Organization) -> Organization:
    return Organization.objects.select_for_update().get(pk=org.pk)


def check_parent(kind: str, parent: Organization | None) -> None:
    """The level rule: which kinds may hang under which (PARENT_KINDS)."""
    allowed = PARENT_KINDS.get(kind, ())
    if parent is None or parent.kind not in allowed:
        labels = "、".join(str(OrgKind(k).label) for k in allowed) or "—"
        raise ValidationError(
            {
                "parent": _("%(kind)s只能设在以下类型的组织之下：%(allowed)s")
                % {"kind": OrgKind(kind).label, "allowed": labels}
            },
            code="level",
        )
    if not parent.is_active:
        raise ValidationError({"parent": _("上级组织“%(name)s”已撤销") % {"name": parent.name}})


@transaction.atomic
def organization_create(
    *, by: User, kind: str, parent: Organization, name: str, **fields: Any
) -> Organization:
    """A new organisation under `parent`, which must lie in the creator's area."""
    if kind not in CREATABLE_KINDS:
        raise ValidationError({"kind": _("不能在此新增该类型的组织")})
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise TypeError(f"unknown organisation fields: {sorted(unknown)}")
    lock_tree()
    parent = _fresh(parent)
    if not covers(by, parent.path):
        raise ValidationError({"parent": _("上级组织不在您的管辖范围内")})
    check_parent(kind, parent)
    org = Organization(name=name, kind=kind, parent=parent, **fields)
    org.full_clean(exclude=["path"])
    org.save()
    return org


def _move_subtree(node: Organization, new_parent: Organization) -> tuple[str, str]:
    """Re-parent `node` and rewrite the paths of its whole subtree in one UPDATE."""
    old_prefix = node.path
    new_prefix = f"{new_parent.path}{node.pk}/"
    Organization.objects.filter(path__startswith=old_prefix).update(
        path=Concat(
            Value(new_prefix),
            Substr("path", len(old_prefix) + 1),
            output_field=CharField(),
        )
    )
    Organization.objects.filter(pk=node.pk).update(parent=new_parent, version=F("version") + 1)
    node.parent = new_parent
    node.path = new_prefix
    return old_prefix, new_prefix


def set_community_area(
    community: Community, *, street: Organization, district: Organization, on: dt.date
) -> None:
    """Record that `community` belongs to street/district from `on` (closing the period
    before); the rows are bookkeeping of a change that writes its own audit entry."""
    Community.objects.filter(pk=community.pk).update(
        street=street, district=district, version=F("version") + 1
    )
    community.street, community.district = street, district
    current = CommunityAreaPeriod.objects.current().filter(community=community).first()
    if current is not None and (current.street_id, current.district_id) == (
        street.pk,
        district.pk,
    ):
        return
    if current is not None and current.valid_from >= on:
        # Changed again on the day it began (or backdated to it): that period never held.
        CommunityAreaPeriod.objects.filter(pk=current.pk).update(street=street, district=district)
        return
    if current is not None:
        CommunityAreaPeriod.objects.filter(pk=current.pk).update(valid_to=on)
    CommunityAreaPeriod.objects.bulk_create(
        [CommunityAreaPeriod(community=community, street=street, district=district, valid_from=on)]
    )


def _sync_communities(prefix: str, on: dt.date) -> list[int]:
    """After a move, communities under `prefix` take their street and district from the
    tree again; returns the ids of those that changed."""
    changed = []
    rows = Community.objects.filter(organization__path__startswith=prefix).select_related(
        "organization__parent__parent"
    )
    for community in rows:
        street = community.organization.parent
        district = street.parent if street is not None else None
        if street is None or district is None:
            continue
        if (community.street_id, community.district_id) != (street.pk, district.pk):
            set_community_area(community, street=street, district=district, on=on)
            changed.append(community.pk)
    return changed


def check_effective_date(communities: list[Community], on: dt.date) -> None:
    """A change may be backdated to when it took effect, not into a period already closed,
    and not dated in the future (the tree changes now)."""
    if on > timezone.localdate():
        raise ValidationError({"effective_on": _("生效日期不能晚于今天")})
    latest = (
        CommunityAreaPeriod.objects.current()
        .filter(community__in=communities)
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    if latest is not None and on < latest:
        raise ValidationError(
            {
                "effective_on": _("生效日期不能早于现行归属的起始日期 %(date)s")
                % {"date": latest.isoformat()}
            }
        )


def move_checks(org: Organization, new_parent: Organization) -> None:
    """Refusals of a move that do not depend on who asks."""
    if org.kind == OrgKind.FEDERATION:
        raise ValidationError({"parent": _("市总工会是组织树的根，不能移动")})
    if new_parent.pk == org.parent_id:
        raise ValidationError({"parent": _("新的上级与原上级相同")})
    if new_parent.path.startswith(org.path):
        raise ValidationError({"parent": _("不能把组织移到它自身或它的下级组织之下")})
    check_parent(org.kind, new_parent)


@transaction.atomic
def organization_move(
    *,
    org: Organization,
    new_parent: Organization,
    by: User,
    effective_on: dt.date | None = None,
    audited: bool = True,
) -> Organization:
    """Hang `org` (with everything below it) under `new_parent`. Communities below follow,
    with their street/district history updated from `effective_on` (default today)."""
    on = effective_on or timezone.localdate()
    lock_tree()
    org, new_parent = _fresh(org), _fresh(new_parent)
    if org.kind == OrgKind.COMMUNITY_UNION:
        # A community moves with everything hanging on it, counted in one audit entry.
        from .restructuring import community_move

        community_move(community=org.community, street=new_parent, by=by, effective_on=on)
        return _fresh(org)
    old_parent = org.parent
    move_checks(org, new_parent)
    require_common_scope(by, *(n for n in (old_parent, new_parent) if n is not None))
    affected = list(Community.objects.filter(organization__path__startswith=org.path))
    if affected:
        check_effective_date(affected, on)
    old_prefix, new_prefix = _move_subtree(org, new_parent)
    changed = _sync_communities(new_prefix, on)
    if audited:
        audit.record(
            AuditAction.UPDATE,
            obj=org,
            changes={
                "move": {
                    "parent": [old_parent.pk if old_parent else None, new_parent.pk],
                    "path": [old_prefix, new_prefix],
                    "subtree": Organization.objects.filter(path__startswith=new_prefix).count(),
                    "communities": changed,
                    "effective_on": on,
                }
            },
        )
    return org


def retire_blockers(org: Organization) -> list[str]:
    """What keeps an organisation from being retired, in words the user can act on."""
    blockers = []
    children = list(
        Organization.objects.filter(parent=org, is_active=True).values_list("name", flat=True)
    )
    if children:
        shown = "、".join(children[:5]) + ("等" if len(children) > 5 else "")
        blockers.append(
            _("仍有 %(n)d 个在用的下级组织：%(names)s。请先撤销或迁出这些组织。")
            % {"n": len(children), "names": shown}
        )
    if org.kind == OrgKind.COMMUNITY_UNION:
        people = Person.objects.filter(community__organization=org).count()
        if people:
            blockers.append(
                _("社区仍有 %(n)d 名登记居民。请先通过“社区合并”或“社区拆分”把居民转到其他社区。")
                % {"n": people}
            )
    return blockers


@transaction.atomic
def organization_retire(*, org: Organization, by: User, on: dt.date, reason: str) -> Organization:
    """Retire (撤销) an organisation: kept with its history, no longer in use."""
    lock_tree()
    org = _fresh(org)
    if not org.is_active:
        raise ValidationError(_("该组织已于 %(date)s 撤销") % {"date": org.retired_on})
    if org.kind == OrgKind.FEDERATION:
        raise ValidationError(_("市总工会不能撤销"))
    if org.parent is not None:
        require_common_scope(by, org.parent)
    if on > timezone.localdate():
        raise ValidationError({"retired_on": _("撤销日期不能晚于今天")})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写撤销原因")})
    blockers = retire_blockers(org)
    if blockers:
        raise ValidationError(blockers, code="blocked")
    _retire(org, on=on, reason=reason)
    audit.record(
        AuditAction.UPDATE,
        obj=org,
        changes={"retire": {"retired_on": on, "reason": reason}},
    )
    return org


@transaction.atomic
def organization_reactivate(*, org: Organization, by: User, reason: str) -> Organization:
    """Bring a retired organisation back into use (撤销有误, or an organisation that resumes its
    work): from today, under the same parent. A community merged into another stays merged
    (its records went to the other one), and the parent must be in use."""
    lock_tree()
    org = _fresh(org)
    if org.is_active:
        raise ValidationError(_("该组织在用，无需恢复"))
    if org.parent is not None:
        require_common_scope(by, org.parent)
        if not org.parent.is_active:
            raise ValidationError(
                _("上级组织“%(parent)s”已撤销，请先恢复上级组织") % {"parent": org.parent.name}
            )
    if not reason.strip():
        raise ValidationError({"reason": _("请填写恢复原因")})
    community = Community.objects.filter(organization=org).select_related("merged_into").first()
    if community is not None and community.merged_into is not None:
        raise ValidationError(
            _("该社区已并入%(target)s，其记录已转入该社区，不能恢复")
            % {"target": community.merged_into.name}
        )
    retired_on, retired_reason = org.retired_on, org.retired_reason
    Organization.objects.filter(pk=org.pk).update(
        is_active=True, retired_on=None, retired_reason="", version=F("version") + 1
    )
    org.is_active, org.retired_on, org.retired_reason = True, None, ""
    if community is not None:
        # It belongs to its street again from today (the time it was retired stays a gap);
        # retired and restored the same day, its last period simply goes on.
        today = timezone.localdate()
        last = CommunityAreaPeriod.objects.filter(community=community).order_by("-valid_from")
        latest = last.first()
        if latest is not None and latest.valid_to is None:
            pass  # retired before its period began: that period still holds
        elif latest is not None and latest.valid_to >= today:
            CommunityAreaPeriod.objects.filter(pk=latest.pk).update(valid_to=None)
        else:
            CommunityAreaPeriod.objects.bulk_create(
                [
                    CommunityAreaPeriod(
                        community=community,
                        street_id=community.street_id,
                        district_id=community.district_id,
                        valid_from=today,
                    )
                ]
            )
    audit.record(
        AuditAction.UPDATE,
        obj=org,
        changes={
            "reactivate": {
                "retired_on": retired_on,
                "retired_reason": retired_reason,
                "reason": reason,
            }
        },
    )
    return org


def _retire(org: Organization, *, on: dt.date, reason: str) -> None:
    Organization.objects.filter(pk=org.pk).update(
        is_active=False, retired_on=on, retired_reason=reason[:200], version=F("version") + 1
    )
    org.is_active, org.retired_on, org.retired_reason = False, on, reason[:200]
    # A retired community stops belonging anywhere from that day.
    CommunityAreaPeriod.objects.current().filter(
        community__organization=org, valid_from__lt=on
    ).update(valid_to=on)


@transaction.atomic
def community_create(
    *,
    by: User,
    street: Organization,
    name: str,
    tier: str = Tier.ORDINARY,
    population: int = 0,
    worker_count: int = 0,
    retiree_count: int = 0,
    address: str = "",
    audited: bool = True,
) -> Community:
    """A community with its joint union under `street`, and the first period of its history."""
    lock_tree()
    street = _fresh(street)
    if not covers(by, street.path):
        raise ValidationError({"street": _("街道不在您的管辖范围内")})
    check_parent(OrgKind.COMMUNITY_UNION, street)
    if Community.objects.filter(street=street, name=name, organization__is_active=True).exists():
        raise ValidationError({"name": _("%(street)s已有同名社区") % {"street": street.name}})
    assert street.parent is not None  # a street union always hangs under a district
    union = Organization(name=f"{name}联合工会", kind=OrgKind.COMMUNITY_UNION, parent=street)
    community = Community(
        organization=union,
        name=name,
        street=street,
        district=street.parent,
        tier=tier,
        population=population,
        worker_count=worker_count,
        retiree_count=retiree_count,
        address=address,
    )
    if not audited:
        # Part of a larger change that writes one summary entry.
        union._skip_audit = True  # type: ignore[attr-defined]
        community._skip_audit = True  # type: ignore[attr-defined]
    union.save()
    community.organization = union
    community.full_clean(exclude=["organization", "street", "district", "merged_into"])
    community.save()
    return community

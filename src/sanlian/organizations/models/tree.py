"""The organisation tree, communities (areas) with their tiers and area history, and venues."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import VersionedModel
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q


class OrgKind(models.TextChoices):
    FEDERATION = "federation", _("市总工会")
    DISTRICT_UNION = "district_union", _("区总工会")
    STREET_UNION = "street_union", _("街道工会")
    COMMUNITY_UNION = "community_union", _("社区联合工会")
    PARTY_ORG = "party_org", _("社区党组织")
    RESIDENTS_COMMITTEE = "residents_committee", _("居民委员会")
    SOCIAL_ORG = "social_org", _("社会组织")
    ENTERPRISE = "enterprise", _("企业")
    VOLUNTEER_TEAM = "volunteer_team", _("志愿服务队")
    EVALUATOR = "evaluator", _("第三方评估机构")


# The union hierarchy that forms areas; everything else hangs beside an area node.
AREA_KINDS = (
    OrgKind.FEDERATION,
    OrgKind.DISTRICT_UNION,
    OrgKind.STREET_UNION,
    OrgKind.COMMUNITY_UNION,
)

# Which kinds of node each kind may hang under: an area node keeps its level (a street stays
# under a district, a community union under a street); the federation is the only root.
PARENT_KINDS: dict[str, tuple[str, ...]] = {
    OrgKind.FEDERATION: (),
    OrgKind.DISTRICT_UNION: (OrgKind.FEDERATION,),
    OrgKind.STREET_UNION: (OrgKind.DISTRICT_UNION,),
    OrgKind.COMMUNITY_UNION: (OrgKind.STREET_UNION,),
    OrgKind.PARTY_ORG: (OrgKind.COMMUNITY_UNION,),
    OrgKind.RESIDENTS_COMMITTEE: (OrgKind.COMMUNITY_UNION,),
    OrgKind.SOCIAL_ORG: AREA_KINDS,
    OrgKind.ENTERPRISE: AREA_KINDS,
    OrgKind.VOLUNTEER_TEAM: (OrgKind.COMMUNITY_UNION, OrgKind.STREET_UNION, OrgKind.SOCIAL_ORG),
    OrgKind.EVALUATOR: (OrgKind.FEDERATION, OrgKind.DISTRICT_UNION),
}


class ServiceField(models.TextChoices):
    """服务领域 of a social organisation (the needs DOMAIN.md lists)."""

    ELDERLY = "elderly", _("养老服务")
    YOUTH = "youth", _("青少年服务")
    LEGAL = "legal", _("法律援助与劳动争议")
    EMPLOYMENT = "employment", _("就业与技能")
    HEALTH = "health", _("健康服务")
    FAMILY = "family", _("家庭服务")
    PROPERTY = "property", _("物业纠纷调解")
    DISABILITY = "disability", _("残障服务")
    MENTAL_HEALTH = "mental_health", _("心理健康")
    OTHER = "other", _("其他")


class Rating(models.TextChoices):
    """社会组织评估等级 (民政部门评定); blank = not rated."""

    A1 = "1A", "1A"
    A2 = "2A", "2A"
    A3 = "3A", "3A"
    A4 = "4A", "4A"
    A5 = "5A", "5A"


def validate_service_fields(value: Any) -> None:
    if not isinstance(value, list) or any(v not in ServiceField.values for v in value):
        raise ValidationError(_("服务领域只能从列表中选择"), code="service_field")


class OrganizationQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "path")
        if scope.org_id is not None and not scope.is_admin:
            return Q(pk=scope.org_id)
        return NOTHING

    def active(self) -> OrganizationQuerySet:
        return self.filter(is_active=True)

    def areas(self) -> OrganizationQuerySet:
        return self.filter(kind__in=AREA_KINDS)

    def of_kind(self, *kinds: str) -> OrganizationQuerySet:
        return self.filter(kind__in=kinds)


class Organization(AuditedModel, VersionedModel):
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=24, choices=OrgKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # Materialized path of primary keys, "/1/4/17/": a subtree is one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    credit_code = models.CharField(
        _("统一社会信用代码"),
        max_length=18,
        null=True,
        blank=True,
        unique=True,
        error_messages={"unique": _("该统一社会信用代码已被其他组织使用")},
    )
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    # Social organisations: 服务领域 (values of ServiceField), 评估等级, registration, scope.
    service_fields = models.JSONField(
        _("服务领域"), default=list, blank=True, validators=[validate_service_fields]
    )
    rating = models.CharField(_("评估等级"), max_length=2, choices=Rating.choices, blank=True)
    registration_date = models.DateField(_("登记日期"), null=True, blank=True)
    business_scope = models.TextField(_("业务范围"), blank=True)
    is_active = models.BooleanField(_("在用"), default=True)
    retired_on = models.DateField(_("撤销日期"), null=True, blank=True)
    retired_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    # " 凯旋社区联合工会 kaixuan… kxsqlhgh": name, pinyin, initials (filled by models.people).
    search_text = models.TextField(blank=True, default="", editable=False)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=False) | Q(kind="federation"),
                name="organization_only_federation_is_root",
            ),
            # Retired <=> it carries the date it was retired.
            models.CheckConstraint(
                condition=Q(is_active=True, retired_on__isnull=True)
                | Q(is_active=False, retired_on__isnull=False),
                name="organization_retired_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        expected = (self.parent.path if self.parent_id and self.parent else "/") + f"{self.pk}/"
        if self.path != expected:
            self.path = expected
            type(self).objects.filter(pk=self.pk).update(path=expected)

    def get_absolute_url(self) -> str:
        return reverse("organizations:organization_detail", args=[self.pk])

    @property
    def is_area(self) -> bool:
        return self.kind in AREA_KINDS

    def area_node(self) -> Organization:
        """The nearest area (union) node at or above this organisation."""
        node: Organization | None = self
        while node is not None and not node.is_area:
            node = node.parent
        return node or self

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def service_field_labels(self) -> list[str]:
        return [str(ServiceField(v).label) for v in self.service_fields if v in ServiceField.values]


class Tier(models.TextChoices):
    STAR = "star", _("明星")
    ORDINARY = "ordinary", _("普通")
    WEAK = "weak", _("薄弱")


class CommunityQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "organization__path")
        if scope.org_id is not None and not scope.is_admin:
            # A social organisation, team or evaluator sees the community it is based in.
            return Q(organization__children__id=scope.org_id)
        return NOTHING

    def active(self) -> CommunityQuerySet:
        """Communities whose union is in use (a merged or retired one is not)."""
        return self.filter(organization__is_active=True)

    def with_area_at(self, on: dt.date) -> CommunityQuerySet:
        """Annotate `area_street_id` / `area_district_id`: where each community belonged on
        `on`, so that reports for past periods group by the structure of that time."""
        period = CommunityAreaPeriod.objects.filter(community=OuterRef("pk")).covering(on)
        return self.annotate(
            area_street_id=Coalesce(
                Subquery(period.values("street_id")[:1]),
                F("street_id"),
                output_field=models.BigIntegerField(),
            ),
            area_district_id=Coalesce(
                Subquery(period.values("district_id")[:1]),
                F("district_id"),
                output_field=models.BigIntegerField(),
            ),
        )


class Community(AuditedModel, VersionedModel):
    """社区: an area, represented in the tree by its community joint union."""

    organization = models.OneToOneField(
        Organization,
        verbose_name=_("社区联合工会"),
        on_delete=models.PROTECT,
        related_name="community",
    )
    name = models.CharField(_("社区名称"), max_length=100)
    street = models.ForeignKey(
        Organization, verbose_name=_("街道"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        Organization, verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    tier = models.CharField(_("分类"), max_length=10, choices=Tier.choices, db_index=True)
    population = models.PositiveIntegerField(_("常住人口"), default=0)
    worker_count = models.PositiveIntegerField(_("在职职工数"), default=0)
    retiree_count = models.PositiveIntegerField(_("退休人员数"), default=0)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已并入"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
    )
    # " 凯旋社区 kaixuanshequ kxsq": name, pinyin, initials (filled by models.people).
    search_text = models.TextField(blank=True, default="", editable=False)

    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        ordering = ["organization__path"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged_into=F("pk")), name="community_not_merged_into_itself"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        creating = self._state.adding
        super().save(*args, **kwargs)
        if creating:
            # History starts with the community: where it belongs from today on (bookkeeping
            # of the creation, which is audited itself).
            CommunityAreaPeriod.objects.bulk_create(
                [
                    CommunityAreaPeriod(
                        community=self,
                        street_id=self.street_id,
                        district_id=self.district_id,
                        valid_from=timezone.localdate(),
                    )
                ]
            )

    def get_absolute_url(self) -> str:
        return reverse("organizations:community_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.organization.is_active


class CommunityAreaPeriodQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "community__organization__path")
        if scope.org_id is not None and not scope.is_admin:
            return Q(community__organization__children__id=scope.org_id)
        return NOTHING

    def current(self) -> CommunityAreaPeriodQuerySet:
        return self.filter(valid_to__isnull=True)

    def covering(self, on: dt.date) -> CommunityAreaPeriodQuerySet:
        """The period in force on `on`, first. Periods of a community are contiguous, so the
        first one not yet ended holds the date; before the first period, the first one counts
        (a community entered later kept the structure it was entered with)."""
        return self.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on)).order_by("valid_from")


class CommunityAreaPeriod(AuditedModel):
    """Where a community belonged (street, district) from `valid_from` until the day before
    `valid_to` (null: still). Written at creation and by every move, merge and split."""

    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.CASCADE, related_name="area_periods"
    )
    street = models.ForeignKey(
        Organization, verbose_name=_("街道"), on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        Organization, verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateField(_("起始日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)

    objects = CommunityAreaPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区归属期")
        verbose_name_plural = _("社区归属期")
        ordering = ["community", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["community"],
                condition=Q(valid_to__isnull=True),
                name="communityareaperiod_one_current",
            ),
            models.UniqueConstraint(
                fields=["community", "valid_from"], name="communityareaperiod_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="communityareaperiod_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        end = self.valid_to.isoformat() if self.valid_to else "—"
        return f"{self.community_id}: {self.valid_from.isoformat()} ~ {end}"


@dataclass(frozen=True)
class CommunityArea:
    street: Organization
    district: Organization


def community_area_at(community: Community, on: dt.date) -> CommunityArea:
    """The street and district `community` belonged to on `on`."""
    period = (
        CommunityAreaPeriod.objects.filter(community=community)
        .covering(on)
        .select_related("street", "district")
        .first()
    )
    if period is None:
        return CommunityArea(street=community.street, district=community.district)
    return CommunityArea(street=period.street, district=period.district)


class VenueKind(models.TextChoices):
    WORKERS_HOME = "workers_home", _("职工之家")
    SERVICE_STATION = "service_station", _("服务站")
    MEETING_ROOM = "meeting_room", _("会议室")
    ACTIVITY_ROOM = "activity_room", _("活动室")
    OTHER = "other", _("其他")


class VenueQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "community__organization__path") | path_q(
                scope, "organization__path"
            )
        if scope.org_id is not None and not scope.is_admin:
            # Its own venues, and those of the community it is based in.
            return Q(organization_id=scope.org_id) | Q(
                community__organization__children__id=scope.org_id
            )
        return NOTHING

    def active(self) -> VenueQuerySet:
        return self.filter(is_active=True)


class Venue(AuditedModel, VersionedModel):
    """场地: a 职工之家, 服务站, room... owned by a community or by one organisation."""

    community = models.ForeignKey(
        Community,
        verbose_name=_("所属社区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="venues",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="venues",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=VenueKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    area = models.DecimalField(
        _("面积（平方米）"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    capacity = models.PositiveIntegerField(_("容纳人数"), null=True, blank=True)
    opening_hours = models.CharField(
        _("开放时间"),
        max_length=200,
        blank=True,
        help_text=_("例如：周一至周五 8:30-17:00；周六 9:00-12:00"),
    )
    is_shared = models.BooleanField(
        _("可供其他组织预约"), default=False, help_text=_("勾选后，其他组织可以预约使用")
    )
    is_active = models.BooleanField(_("在用"), default=True)

    objects = VenueQuerySet.as_manager()

    class Meta:
        verbose_name = _("场地")
        verbose_name_plural = _("场地")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(community__isnull=False, organization__isnull=True)
                | Q(community__isnull=True, organization__isnull=False),
                name="venue_one_owner",
                violation_error_message=_("场地须属于一个社区或一个组织（二者选其一）"),
            ),
            models.CheckConstraint(
                condition=Q(area__isnull=True) | Q(area__gt=0),
                name="venue_area_positive",
                violation_error_message=_("面积应大于 0"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organizations:venue_detail", args=[self.pk])

    @property
    def owner(self) -> Community | Organization | None:
        return self.community or self.organization

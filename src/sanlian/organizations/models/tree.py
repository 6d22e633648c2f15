"""The organisation tree and communities (areas), with their tiers."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
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
        _("统一社会信用代码"), max_length=18, null=True, blank=True, unique=True
    )
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

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

    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        ordering = ["organization__path"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organizations:community_detail", args=[self.pk])

"""Link 1, 组织联建: the organisation tree, communities, people and their unions."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sanlian.core import crypto
from sanlian.core.audit import AuditedModel
from sanlian.core.models import VersionedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.core.validators import mask_resident_id


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


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class PersonQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "community__organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(employer_id=scope.org_id)
        if scope.user_id is not None and not scope.is_admin:
            return Q(user_id=scope.user_id)
        return NOTHING


class Person(AuditedModel, VersionedModel):
    """A resident or worker. The ID number is stored encrypted, searchable by keyed hash."""

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True, editable=False)
    phone = models.CharField(_("手机号"), max_length=11, blank=True, db_index=True)
    community = models.ForeignKey(
        Community, verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="people"
    )
    address = models.CharField(_("住址"), max_length=200, blank=True)
    employer = models.ForeignKey(
        Organization,
        verbose_name=_("工作单位（登记组织）"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
    )
    workplace = models.CharField(_("工作单位"), max_length=100, blank=True)
    is_retired = models.BooleanField(_("退休"), default=False)
    is_new_employment = models.BooleanField(_("新就业形态劳动者"), default=False)
    user = models.OneToOneField(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="person"
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("居民/职工")
        verbose_name_plural = _("居民/职工")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organizations:person_detail", args=[self.pk])

    def set_id_number(self, number: str) -> None:
        self.id_number_encrypted = crypto.encrypt(number) if number else ""
        self.id_number_hash = crypto.search_hash(number) if number else ""
        self.id_number_masked = mask_resident_id(number) if number else ""

    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    TRANSFERRED = "transferred", _("已转出")
    WITHDRAWN = "withdrawn", _("已退会")


class MembershipQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "union__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(person__employer_id=scope.org_id)
        if scope.user_id is not None and not scope.is_admin:
            return Q(person__user_id=scope.user_id)
        return NOTHING

    def active(self) -> MembershipQuerySet:
        return self.filter(status=MembershipStatus.ACTIVE)


class Membership(AuditedModel, VersionedModel):
    """会员: a person's membership of one union (a transfer ends one and starts another)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    union = models.ForeignKey(
        Organization, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="members"
    )
    card_number = models.CharField(_("会员证号"), max_length=30, unique=True)
    joined_on = models.DateField(_("入会时间"))
    status = models.CharField(
        _("会员状态"),
        max_length=12,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    last_dues_on = models.DateField(_("最近缴费日期"), null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="active"),
                name="membership_one_active_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.card_number}"


class Qualification(models.TextChoices):
    ASSISTANT = "assistant", _("助理社会工作师")
    SOCIAL_WORKER = "social_worker", _("社会工作师")
    SENIOR = "senior", _("高级社会工作师")


class SocialWorkerQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(organization_id=scope.org_id)
        if scope.user_id is not None and not scope.is_admin:
            return Q(person__user_id=scope.user_id)
        return NOTHING


class SocialWorker(AuditedModel, VersionedModel):
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="social_worker")
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所在机构"),
        on_delete=models.PROTECT,
        related_name="social_workers",
    )
    qualification = models.CharField(
        _("职业资格"), max_length=16, choices=Qualification.choices, blank=True
    )
    certificate_number = models.CharField(_("证书编号"), max_length=40, blank=True)
    is_supervisor = models.BooleanField(_("督导"), default=False)

    objects = SocialWorkerQuerySet.as_manager()

    class Meta:
        verbose_name = _("社工")
        verbose_name_plural = _("社工")

    def __str__(self) -> str:
        return str(self.person)


class VolunteerQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "team__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(team_id=scope.org_id)
        if scope.user_id is not None and not scope.is_admin:
            return Q(person__user_id=scope.user_id)
        return NOTHING


class Volunteer(AuditedModel, VersionedModel):
    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="volunteer")
    team = models.ForeignKey(
        Organization,
        verbose_name=_("志愿服务队"),
        on_delete=models.PROTECT,
        related_name="volunteers",
    )
    skills = models.CharField(_("技能"), max_length=200, blank=True)
    # Weekday 0-6 × part of day, e.g. ["6:am", "1:evening"]: most service is outside 8 hours.
    availability = models.JSONField(_("可服务时间"), default=list, blank=True)
    hours_logged = models.DecimalField(_("累计服务时长"), max_digits=8, decimal_places=1, default=0)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")

    def __str__(self) -> str:
        return str(self.person)

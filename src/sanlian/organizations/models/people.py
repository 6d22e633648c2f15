"""Residents and workers, and their union memberships."""

from __future__ import annotations

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

from .tree import Community, Organization


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

"""Social workers and volunteers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import VersionedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q

from .people import Person
from .tree import Organization


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

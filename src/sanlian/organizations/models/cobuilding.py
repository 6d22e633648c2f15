"""Co-building agreements (联建协议) among a community's Party organisation, union and social
organisations, their joint meetings (联席会议), attendance and follow-up items."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sanlian.core.audit import AuditedModel
from sanlian.core.models import VersionedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import AREA_ROLES, NOTHING, Scope, ScopedQuerySet, path_q

from .tree import AREA_KINDS, Community, Organization, OrgKind

# Contracts of such agreements run one to three years; longer ones are allowed but flagged.
USUAL_MAX_TERM_DAYS = 3 * 366


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("草拟")
    ACTIVE = "active", _("生效")
    EXPIRED = "expired", _("到期")
    TERMINATED = "terminated", _("终止")


class PartyRole(models.TextChoices):
    PARTY_ORG = "party_org", _("党组织")
    UNION = "union", _("工会")
    SOCIAL_ORG = "social_org", _("社会组织")
    RESIDENTS_COMMITTEE = "residents_committee", _("居委会")
    ENTERPRISE = "enterprise", _("企业")
    OTHER = "other", _("其他")


# Which kinds of organisation may sign in which role (其他 takes any).
PARTY_ROLE_KINDS: dict[str, tuple[str, ...]] = {
    PartyRole.PARTY_ORG: (OrgKind.PARTY_ORG,),
    PartyRole.UNION: AREA_KINDS,
    PartyRole.SOCIAL_ORG: (OrgKind.SOCIAL_ORG,),
    PartyRole.RESIDENTS_COMMITTEE: (OrgKind.RESIDENTS_COMMITTEE,),
    PartyRole.ENTERPRISE: (OrgKind.ENTERPRISE,),
}


def party_role_for(kind: str) -> str:
    """The usual role in an agreement of an organisation of this kind."""
    for role, kinds in PARTY_ROLE_KINDS.items():
        if kind in kinds:
            return role
    return PartyRole.OTHER


def required_party_errors(
    community: Community, parties: list[tuple[Organization, str]]
) -> list[str]:
    """The rule of 党建引领、工会主导: the community's Party organisation and its joint union
    always sign."""
    errors = []
    if not any(
        org.kind == OrgKind.PARTY_ORG
        and org.parent_id == community.organization_id
        and role == PartyRole.PARTY_ORG
        for org, role in parties
    ):
        errors.append(str(_("签署方须包括本社区党组织（协议角色：党组织）。")))
    if not any(
        org.pk == community.organization_id and role == PartyRole.UNION for org, role in parties
    ):
        errors.append(
            str(_("签署方须包括%(union)s（协议角色：工会）。") % {"union": community.organization})
        )
    return errors


def _party_agreement_ids(org_id: int) -> models.QuerySet[Any, dict[str, Any]]:
    return AgreementParty.objects.filter(organization_id=org_id).values("agreement_id")


class CoBuildingAgreementQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "community__organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(pk__in=_party_agreement_ids(scope.org_id))
        return NOTHING

    def in_force(self, today: date) -> CoBuildingAgreementQuerySet:
        return self.filter(
            status=AgreementStatus.ACTIVE, valid_from__lte=today, valid_to__gte=today
        )


class CoBuildingAgreement(AuditedModel, VersionedModel):
    """联建协议 of one community: who signed, for which period, committing to what."""

    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="agreements"
    )
    title = models.CharField(_("协议名称"), max_length=200)
    document_number = models.CharField(_("协议编号"), max_length=50, blank=True)
    signed_on = models.DateField(_("签订日期"))
    valid_from = models.DateField(_("有效期起"))
    valid_to = models.DateField(_("有效期止"))
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=AgreementStatus.choices,
        default=AgreementStatus.DRAFT,
        db_index=True,
    )
    commitments = models.TextField(_("共建承诺"), blank=True)

    objects = CoBuildingAgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("联建协议")
        verbose_name_plural = _("联建协议")
        ordering = ["-valid_from", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gt=models.F("valid_from")),
                name="agreement_valid_to_after_valid_from",
                violation_error_message=_("有效期止须晚于有效期起。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("organizations:agreement_detail", args=[self.pk])

    @property
    def term_days(self) -> int:
        return (self.valid_to - self.valid_from).days

    @property
    def is_longer_than_usual(self) -> bool:
        return self.term_days > USUAL_MAX_TERM_DAYS

    def is_in_force(self, today: date) -> bool:
        return self.status == AgreementStatus.ACTIVE and self.valid_from <= today <= self.valid_to


class AgreementPartyQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "agreement__community__organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(agreement_id__in=_party_agreement_ids(scope.org_id))
        return NOTHING


class AgreementParty(AuditedModel):
    """One signatory organisation of an agreement."""

    agreement = models.ForeignKey(
        CoBuildingAgreement, on_delete=models.CASCADE, related_name="parties"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("组织"),
        on_delete=models.PROTECT,
        related_name="agreement_parties",
    )
    role = models.CharField(_("协议角色"), max_length=24, choices=PartyRole.choices)
    signed_on = models.DateField(_("签署日期"), null=True, blank=True)
    signatory_name = models.CharField(_("签署人"), max_length=50, blank=True)

    objects = AgreementPartyQuerySet.as_manager()

    class Meta:
        verbose_name = _("协议签署方")
        verbose_name_plural = _("协议签署方")
        ordering = ["agreement", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organization"], name="agreementparty_unique_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_role_display()}"


class JointMeetingQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "community__organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(agreement_id__in=_party_agreement_ids(scope.org_id))
        return NOTHING


class JointMeeting(AuditedModel, VersionedModel):
    """联席会议 of a community, usually under an agreement; chaired by the Party secretary."""

    community = models.ForeignKey(
        Community, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="joint_meetings"
    )
    agreement = models.ForeignKey(
        CoBuildingAgreement,
        verbose_name=_("联建协议"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="meetings",
    )
    title = models.CharField(_("会议名称"), max_length=200)
    held_on = models.DateTimeField(_("召开时间"), db_index=True)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    chair = models.CharField(_("主持人"), max_length=50)
    minutes = models.TextField(_("会议纪要"), blank=True)
    decisions = models.TextField(_("议定事项"), blank=True)

    objects = JointMeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("联席会议")
        verbose_name_plural = _("联席会议")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("organizations:meeting_detail", args=[self.pk])


class MeetingAttendanceQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "meeting__community__organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(meeting__agreement_id__in=_party_agreement_ids(scope.org_id))
        return NOTHING


class MeetingAttendance(AuditedModel):
    meeting = models.ForeignKey(JointMeeting, on_delete=models.CASCADE, related_name="attendance")
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    attendee_name = models.CharField(_("参会人"), max_length=50)
    present = models.BooleanField(_("出席"), default=True)

    objects = MeetingAttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("参会记录")
        verbose_name_plural = _("参会记录")
        ordering = ["meeting", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "organization", "attendee_name"],
                name="meetingattendance_unique_person",
            ),
            models.CheckConstraint(
                condition=~Q(attendee_name=""), name="meetingattendance_name_required"
            ),
        ]

    def __str__(self) -> str:
        return self.attendee_name


class FollowUpStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未开始")
    IN_PROGRESS = "in_progress", _("进行中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


OPEN_FOLLOW_UP = (FollowUpStatus.NOT_STARTED, FollowUpStatus.IN_PROGRESS)


class FollowUpItemQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "meeting__community__organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(meeting__agreement_id__in=_party_agreement_ids(scope.org_id))
        return NOTHING

    def open(self) -> FollowUpItemQuerySet:
        return self.filter(status__in=OPEN_FOLLOW_UP)

    def overdue(self, today: date) -> FollowUpItemQuerySet:
        """Still open after the day it was due."""
        return self.open().filter(due_on__lt=today)


class FollowUpItem(AuditedModel, VersionedModel):
    """督办事项: something a joint meeting decided, with an owner and a due date."""

    meeting = models.ForeignKey(JointMeeting, on_delete=models.CASCADE, related_name="follow_ups")
    description = models.CharField(_("事项"), max_length=300)
    owner_organization = models.ForeignKey(
        Organization,
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_up_items",
    )
    owner_name = models.CharField(_("责任人"), max_length=50, blank=True)
    due_on = models.DateField(_("完成时限"), db_index=True)
    status = models.CharField(
        _("状态"),
        max_length=12,
        choices=FollowUpStatus.choices,
        default=FollowUpStatus.NOT_STARTED,
        db_index=True,
    )
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)

    objects = FollowUpItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("督办事项")
        verbose_name_plural = _("督办事项")
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="done", completed_on__isnull=False)
                | (~Q(status="done") & Q(completed_on__isnull=True)),
                name="followupitem_completed_on_iff_done",
                violation_error_message=_("已完成的事项须有完成日期，未完成的事项不能有完成日期。"),
            ),
        ]

    def __str__(self) -> str:
        return self.description

    def get_absolute_url(self) -> str:
        return reverse("organizations:meeting_detail", args=[self.meeting_id])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_FOLLOW_UP

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due_on < today

    def days_overdue(self, today: date) -> int:
        return max(0, (today - self.due_on).days) if self.is_open else 0

    def can_be_updated_by(self, user: Any) -> bool:
        """Area staff, and the manager of the organisation responsible for the item."""
        if user.has_role(*AREA_ROLES):
            return True
        return bool(
            user.has_role(Role.SOCIAL_ORG_MANAGER)
            and self.owner_organization_id is not None
            and self.owner_organization_id == user.organization_id
        )

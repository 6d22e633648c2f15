"""Residents and workers, their households, union memberships and vulnerability tags."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import models
from django.db.models import F, Q
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sanlian.core import crypto
from sanlian.core.audit import AuditedModel
from sanlian.core.models import VersionedModel
from sanlian.core.roles import Role
from sanlian.core.scoping import NOTHING, Scope, ScopedQuerySet, path_q
from sanlian.core.services import versioned_update
from sanlian.core.validators import mask_resident_id

from ..pinyin import search_keys
from .tree import Community, Organization


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class NewEmploymentKind(models.TextChoices):
    """新就业形态劳动者, brought into the unions by the 2022 Trade Union Law."""

    COURIER = "courier", _("快递员")
    RIDER = "rider", _("外卖骑手")
    RIDE_HAILING = "ride_hailing", _("网约车司机")
    TRUCK_DRIVER = "truck_driver", _("货车司机")
    OTHER = "other", _("其他")


class PersonQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "community__organization__path")
        if scope.has(Role.SOCIAL_ORG_MANAGER) and scope.org_id is not None:
            return Q(employer_id=scope.org_id)
        if scope.user_id is not None and not scope.is_admin:
            return Q(user_id=scope.user_id)
        return NOTHING

    def active(self) -> PersonQuerySet:
        """Records in use: a record merged into another one stays only as history."""
        return self.filter(is_active=True)


class Person(AuditedModel, VersionedModel):
    """A resident or worker. The ID number is stored encrypted, searchable by keyed hash."""

    name = models.CharField(_("姓名"), max_length=50, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True, editable=False)
    phone = models.CharField(_("手机号"), max_length=11, blank=True)
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
    new_employment_kind = models.CharField(
        _("新就业形态"), max_length=16, choices=NewEmploymentKind.choices, blank=True
    )
    # Derived from new_employment_kind (kept as a column: lists and reports count it).
    is_new_employment = models.BooleanField(_("新就业形态劳动者"), default=False)
    user = models.OneToOneField(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="person"
    )
    is_active = models.BooleanField(_("有效"), default=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_records",
    )
    # " 张三 zhangsan zs": the name, its pinyin and initials (organizations.pinyin).
    search_text = models.TextField(blank=True, default="", editable=False)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("居民/职工")
        verbose_name_plural = _("居民/职工")
        ordering = ["pk"]
        # One index per need: every index is written for each of the 100,000 rows of a large
        # import. `name` (db_index) has Django's plain and prefix (LIKE) indexes on PostgreSQL;
        # a hash is only ever compared whole (no prefix index); a phone is found by prefix, and
        # the prefix operator class serves equality too (opclasses are ignored elsewhere).
        indexes = [
            models.Index(fields=["id_number_hash"], name="person_id_number_hash_idx"),
            models.Index(
                fields=["phone"], name="person_phone_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            # The same ID number twice is one person entered twice, never two people.
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=Q(is_active=True) & ~Q(id_number_hash=""),
                name="person_unique_active_id_number",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(is_active=False),
                name="person_merged_is_inactive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("organizations:person_detail", args=[self.pk])

    def set_id_number(self, number: str) -> None:
        self.id_number_encrypted = crypto.encrypt(number) if number else ""
        self.id_number_hash = crypto.search_hash(number) if number else ""
        self.id_number_masked = mask_resident_id(number) if number else ""
        self._id_number_changed = True

    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""

    def refresh_derived(self) -> list[str]:
        """Set the fields computed from others; return their names (with the ID number's
        columns when it was set since loading: a versioned update writes them too)."""
        self.search_text = " " + search_keys(self.name, is_person_name=True)
        self.is_new_employment = bool(self.new_employment_kind)
        derived = ["search_text", "is_new_employment"]
        if getattr(self, "_id_number_changed", False):
            derived += ["id_number_encrypted", "id_number_hash", "id_number_masked"]
        return derived


# ---- households ----------------------------------------------------------------------------


class Relation(models.TextChoices):
    """Relation to the head of the household (户主)."""

    SELF = "self", _("本人")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDPARENT = "grandparent", _("祖父母")
    GRANDCHILD = "grandchild", _("孙子女")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class HouseholdQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        # Family composition is for the area's union staff, not for social organisations.
        if scope.area_path is not None:
            return path_q(scope, "community__organization__path")
        return NOTHING


class Household(AuditedModel, VersionedModel):
    """家庭: the people living together, one of them the head (户主)."""

    community = models.ForeignKey(
        Community, verbose_name=_("所在社区"), on_delete=models.PROTECT, related_name="households"
    )
    address = models.CharField(_("住址"), max_length=200, blank=True)
    head = models.ForeignKey(
        Person, verbose_name=_("户主"), on_delete=models.PROTECT, related_name="headed_households"
    )

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭")
        verbose_name_plural = _("家庭")
        ordering = ["pk"]

    def __str__(self) -> str:
        return str(_("%(name)s家") % {"name": self.head.name})

    def get_absolute_url(self) -> str:
        return reverse("organizations:household_detail", args=[self.pk])


class HouseholdMemberQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.area_path is not None:
            return path_q(scope, "household__community__organization__path")
        return NOTHING


class HouseholdMember(AuditedModel):
    household = models.ForeignKey(
        Household, verbose_name=_("家庭"), on_delete=models.CASCADE, related_name="members"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("成员"), on_delete=models.PROTECT, related_name="household_links"
    )
    relation = models.CharField(_("与户主关系"), max_length=12, choices=Relation.choices)

    objects = HouseholdMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["household", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], name="householdmember_one_household_per_person"
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(relation="self"),
                name="householdmember_one_head_per_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_relation_display()}"


# ---- union membership ----------------------------------------------------------------------


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    TRANSFERRED = "transferred", _("已转出")
    WITHDRAWN = "withdrawn", _("已退会")


# The union constitution: six months without dues or organisational life counts as withdrawal.
LAPSE_MONTHS = 6


def lapse_cutoff(on: dt.date) -> dt.date:
    """Dues or organisational life before this date no longer count on `on` (calendar months:
    31 August minus six months is 28 February)."""
    return on - relativedelta(months=LAPSE_MONTHS)


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

    def lapsed(self, *, on: dt.date) -> MembershipQuerySet:
        """Active members with neither dues nor organisational life for more than six calendar
        months before `on` (a member who joined within the six months is not lapsed)."""
        cutoff = lapse_cutoff(on)
        return self.active().filter(
            Q(joined_on__lt=cutoff),
            Q(last_dues_on__isnull=True) | Q(last_dues_on__lt=cutoff),
            Q(last_activity_on__isnull=True) | Q(last_activity_on__lt=cutoff),
        )


class Membership(AuditedModel, VersionedModel):
    """会员: one stint of a person in one union. A transfer (转会) ends it and starts the next
    stint in the new union (`previous` links them); a withdrawal (退会) ends it; reinstatement
    starts a new stint. The card number (会员证号) stays with its holder across stints."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    union = models.ForeignKey(
        Organization, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="members"
    )
    card_number = models.CharField(_("会员证号"), max_length=30)
    joined_on = models.DateField(_("入会时间"))
    workplace = models.CharField(_("工作单位"), max_length=100, blank=True)
    status = models.CharField(
        _("会员状态"),
        max_length=12,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    last_dues_on = models.DateField(_("最近缴纳会费"), null=True, blank=True)
    last_activity_on = models.DateField(_("最近参加组织生活"), null=True, blank=True)
    ended_on = models.DateField(_("终止日期"), null=True, blank=True)
    end_reason = models.CharField(_("终止原因"), max_length=200, blank=True)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("上一段会籍"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next",
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        ordering = ["-joined_on", "-pk"]
        # Card numbers are looked up whole: a plain index (no prefix index, see Person).
        indexes = [
            models.Index(fields=["card_number"], name="membership_card_number_idx"),
            # A union's active members are counted on many pages (home, community list and
            # profile): with the status in the index the count never reads the table.
            models.Index(fields=["union", "status"], name="membership_union_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(status="active"),
                name="membership_one_active_per_person",
            ),
            # A card number is held by one member (services refuse another person's number
            # also among ended stints); across stints of the same member it stays the same.
            models.UniqueConstraint(
                fields=["card_number"],
                condition=Q(status="active"),
                name="membership_card_number_unique_active",
            ),
            models.CheckConstraint(
                condition=(Q(status="active") & Q(ended_on__isnull=True))
                | (~Q(status="active") & Q(ended_on__isnull=False)),
                name="membership_ended_unless_active",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("joined_on")),
                name="membership_ends_after_joining",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.card_number}"

    def is_lapsed(self, on: dt.date) -> bool:
        if self.status != MembershipStatus.ACTIVE:
            return False
        cutoff = lapse_cutoff(on)
        return self.joined_on < cutoff and all(
            d is None or d < cutoff for d in (self.last_dues_on, self.last_activity_on)
        )

    def last_sign_of_life(self) -> dt.date | None:
        dates = [d for d in (self.last_dues_on, self.last_activity_on) if d is not None]
        return max(dates) if dates else None


# ---- vulnerability tags --------------------------------------------------------------------


class VulnerabilityTag(models.TextChoices):
    HARDSHIP_WORKER = "hardship_worker", _("困难职工")
    ELDERLY_ALONE = "elderly_alone", _("独居老人")
    EMPTY_NEST = "empty_nest", _("空巢老人")
    DISABLED = "disabled", _("残疾人")
    SUBSISTENCE = "subsistence", _("低保户")
    BEREAVED_PARENTS = "bereaved_parents", _("失独家庭")
    LEFT_BEHIND_CHILD = "left_behind_child", _("留守儿童")
    MIGRANT_WORKER = "migrant_worker", _("农民工")
    SERIOUS_ILLNESS = "serious_illness", _("大病患者")
    OTHER = "other", _("其他")


def sees_tags(scope: Scope) -> bool:
    """Vulnerability tags are sensitive: area roles only, never social organisations."""
    return scope.area_path is not None


class PersonTagQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if sees_tags(scope):
            return path_q(scope, "person__community__organization__path")
        return NOTHING


class PersonTag(AuditedModel):
    """A vulnerable situation of a person (困难职工, 独居老人, …)."""

    person = models.ForeignKey(
        Person, verbose_name=_("居民/职工"), on_delete=models.CASCADE, related_name="tags"
    )
    tag = models.CharField(_("标签"), max_length=20, choices=VulnerabilityTag.choices)

    objects = PersonTagQuerySet.as_manager()

    class Meta:
        verbose_name = _("困难情况标签")
        verbose_name_plural = _("困难情况标签")
        ordering = ["person", "tag"]
        constraints = [
            models.UniqueConstraint(fields=["person", "tag"], name="persontag_unique_person_tag"),
        ]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_tag_display()}"


# ---- search keys ---------------------------------------------------------------------------


def fill_search_text(instance: models.Model) -> list[str]:
    """Set `search_text` (and other derived fields) of a person, organisation or community
    from its name; return the names of the fields set."""
    if isinstance(instance, Person):
        return instance.refresh_derived()
    if isinstance(instance, Organization | Community) and hasattr(instance, "search_text"):
        instance.search_text = " " + search_keys(instance.name, is_person_name=False)
        return ["search_text"]
    return []


_SOURCE_FIELDS = frozenset({"name", "new_employment_kind"})


@receiver(pre_save, sender=Person)
@receiver(pre_save, sender=Organization)
@receiver(pre_save, sender=Community)
def _search_text_on_save(sender: type[models.Model], instance: models.Model, **kw: Any) -> None:
    if kw.get("update_fields") is None:
        fill_search_text(instance)


@receiver(post_save, sender=Person)
@receiver(post_save, sender=Organization)
@receiver(post_save, sender=Community)
def _search_text_on_partial_save(
    sender: type[models.Model], instance: models.Model, **kw: Any
) -> None:
    """save(update_fields=[..."name"...]) writes only those fields: bring the keys along."""
    update_fields = kw.get("update_fields")
    if update_fields is not None and _SOURCE_FIELDS & set(update_fields):
        derived = fill_search_text(instance)
        sender._default_manager.filter(pk=instance.pk).update(
            **{f: getattr(instance, f) for f in derived}
        )


@receiver(versioned_update, sender=Person)
@receiver(versioned_update, sender=Organization)
@receiver(versioned_update, sender=Community)
def _search_text_on_versioned_update(
    sender: type[models.Model], instance: models.Model, **_: Any
) -> list[str]:
    return fill_search_text(instance)

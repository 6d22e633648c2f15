"""Accounts and roles, the append-only audit trail, API tokens and background task runs."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .roles import ADMIN_ROLES, Role
from .scoping import NOTHING, Scope, ScopedQuerySet


class VersionedModel(models.Model):
    """Optimistic concurrency: every edit states the version it started from."""

    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)

    class Meta:
        abstract = True


class UserQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.has(Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN):
            return Q()
        return Q(pk=scope.user_id)


class SanlianUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    must_change_password = models.BooleanField(_("首次登录须修改密码"), default=False)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)

    objects: ClassVar[SanlianUserManager] = SanlianUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    def role_names(self) -> list[str]:
        cached: list[str] | None = getattr(self, "_role_names", None)
        if cached is None:
            cached = sorted(self.role_grants.values_list("role", flat=True))
            self._role_names = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return any(r in self.role_names() for r in roles)

    @property
    def needs_second_factor(self) -> bool:
        return bool(set(self.role_names()) & ADMIN_ROLES)

    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in self.role_names()]


class RoleGrantQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        if scope.has(Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN):
            return Q()
        return Q(user_id=scope.user_id)


class RoleGrant(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    granted_at = models.DateTimeField(_("授予时间"), default=timezone.now)
    granted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = RoleGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("角色授予")
        verbose_name_plural = _("角色授予")
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="rolegrant_unique_user_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {Role(self.role).label}"


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    VIEW = "view", _("查看敏感信息")
    EXPORT = "export", _("导出")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出")
    LOCKED_OUT = "locked_out", _("账号锁定")
    PERMISSION = "permission", _("权限变更")
    TASK = "task", _("后台任务")


class AuditEntryQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        # Only the audit administrator reads the trail (三员分立).
        return Q() if scope.has(Role.AUDIT_ADMIN) else NOTHING


class AuditEntry(models.Model):
    """One append-only audit row. The database refuses UPDATE and early DELETE (triggers),
    and each row carries the hash of the one before, so a removed or altered row shows."""

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True, db_index=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("audit entries are append-only")


class ApiTokenQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return Q(user_id=scope.user_id)

    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def new_raw() -> str:
        return "sl_" + secrets.token_urlsafe(32)


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class TaskRunQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> Q:
        return Q(created_by_id=scope.user_id)


class TaskRun(models.Model):
    """One background job, whichever backend runs it: its progress and outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("任务"), max_length=100)
    params = models.JSONField(default=dict)
    # Same key = same work: enqueuing it again returns the existing run.
    idempotency_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.PENDING
    )
    progress = models.PositiveIntegerField(_("进度"), default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    result = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TaskRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        if self.status == TaskStatus.DONE:
            return 100
        return min(100, round(100 * self.progress / self.total)) if self.total else 0

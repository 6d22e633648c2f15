"""Writes of core: accounts, role grants (三员分立), API tokens, optimistic concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .models import ApiToken, AuditAction, RoleGrant, User, VersionedModel
from .roles import ADMIN_ROLES, Role


@transaction.atomic
def user_create(
    *,
    username: str,
    full_name: str,
    organization_id: int | None,
    roles: list[str],
    password: str,
    created_by: User | None = None,
    must_change_password: bool = True,
    phone: str = "",
) -> User:
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("用户名 %(u)s 已存在") % {"u": username}})
    user = User(
        username=username,
        full_name=full_name,
        organization_id=organization_id,
        must_change_password=must_change_password,
        phone=phone,
    )
    user.set_password(password)
    user.save()
    audit.record(AuditAction.CREATE, obj=user, changes={"roles": roles})
    for role in roles:
        user_grant_role(user=user, role=role, granted_by=created_by)
    return user


@transaction.atomic
def user_grant_role(*, user: User, role: str, granted_by: User | None = None) -> RoleGrant:
    """Grant a role; no account may hold two of the three administrator duties."""
    if role not in Role.values:
        raise ValidationError(_("未知角色：%(r)s") % {"r": role})
    # Lock the user row so two concurrent grants cannot both pass the check below.
    User.objects.select_for_update().filter(pk=user.pk).first()
    held = set(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
    if role in ADMIN_ROLES and held & ADMIN_ROLES - {role}:
        other = Role(next(iter(held & ADMIN_ROLES - {role}))).label
        raise ValidationError(
            _("三员分立：该账号已是%(other)s，不能再授予%(role)s。")
            % {"other": other, "role": Role(role).label}
        )
    grant, created = RoleGrant.objects.get_or_create(
        user=user, role=role, defaults={"granted_by": granted_by}
    )
    if created:
        audit.record(AuditAction.PERMISSION, obj=user, changes={"grant": role})
    user.__dict__.pop("_role_names", None)
    user.__dict__.pop("_sanlian_scope", None)
    return grant


@transaction.atomic
def user_revoke_role(*, user: User, role: str) -> None:
    deleted, _count = RoleGrant.objects.filter(user=user, role=role).delete()
    if deleted:
        audit.record(AuditAction.PERMISSION, obj=user, changes={"revoke": role})
    user.__dict__.pop("_role_names", None)
    user.__dict__.pop("_sanlian_scope", None)


@transaction.atomic
def user_set_active(*, user: User, active: bool) -> None:
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(AuditAction.UPDATE, obj=user, changes={"is_active": active})


@transaction.atomic
def user_reset_password(*, user: User, password: str) -> None:
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    audit.record(AuditAction.UPDATE, obj=user, changes={"password": "reset"})


@transaction.atomic
def password_changed(*, user: User) -> None:
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    user.save(update_fields=["must_change_password", "password_changed_at"])
    audit.record(AuditAction.UPDATE, obj=user, changes={"password": "changed"})


@transaction.atomic
def api_token_create(*, user: User, name: str, days: int | None = 90) -> tuple[ApiToken, str]:
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[3:9],
        digest=ApiToken.digest_of(raw),
        expires_at=timezone.now() + timezone.timedelta(days=days) if days else None,
    )
    audit.record(AuditAction.CREATE, obj=token)
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(AuditAction.UPDATE, obj=token, changes={"revoked": True})


# ---- optimistic concurrency ---------------------------------------------------------------

M = TypeVar("M", bound=VersionedModel)


@dataclass(frozen=True)
class FieldConflict:
    field: str
    label: str
    theirs: Any
    yours: Any


class ConcurrentEditError(Exception):
    """Somebody saved the record after this edit began; nothing was written."""

    def __init__(self, conflicts: list[FieldConflict], current_version: int) -> None:
        self.conflicts = conflicts
        self.current_version = current_version
        super().__init__(_("该记录已被他人修改，您的修改未保存。"))


@transaction.atomic
def save_versioned(instance: M, *, expected_version: int, fields: list[str]) -> M:
    """Write `fields` only if the row is still at `expected_version`; never last-write-wins."""
    model = type(instance)
    values = {f: getattr(instance, model._meta.get_field(f).attname) for f in fields}
    updated = model._default_manager.filter(pk=instance.pk, version=expected_version).update(
        **{model._meta.get_field(f).attname: v for f, v in values.items()},
        version=F("version") + 1,
    )
    if updated == 0:
        current = model._default_manager.get(pk=instance.pk)
        conflicts = []
        for f in fields:
            field = model._meta.get_field(f)
            theirs = getattr(current, field.attname)
            loaded = getattr(instance, "_loaded_values", {}).get(field.attname)
            if theirs != loaded:
                label = str(getattr(field, "verbose_name", f))
                conflicts.append(FieldConflict(f, label, theirs, values[f]))
        raise ConcurrentEditError(conflicts, current.version)
    instance.version = expected_version + 1
    diff = instance.audit_diff() if isinstance(instance, audit.AuditedModel) else {}
    audit.record(AuditAction.UPDATE, obj=instance, changes=diff)
    if isinstance(instance, models.Model):
        instance._loaded_values = {  # type: ignore[attr-defined]
            f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields
        }
    return instance

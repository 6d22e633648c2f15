"""Writes of core: accounts, role grants (三员分立), API tokens, optimistic concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.dispatch import Signal
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
    password: str,
    roles: list[str] | None = None,
    created_by: User | None = None,
    must_change_password: bool = True,
    phone: str = "",
) -> User:
    """A new account. Roles come with it only from setup scripts (no `created_by`) or from a
    security administrator; the system administrator creates accounts without roles."""
    roles = roles or []
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
    """Grant a role; no account may hold two of the three administrator duties.

    `granted_by` None is a setup script; otherwise only a security administrator grants, and
    never to their own account."""
    if role not in Role.values:
        raise ValidationError(_("未知角色：%(r)s") % {"r": role})
    if granted_by is not None and not granted_by.has_role(Role.SECURITY_ADMIN):
        raise ValidationError(_("三员分立：只有安全管理员可以授予角色。"))
    if granted_by is not None and granted_by.pk == user.pk:
        raise ValidationError(_("三员分立：不能给自己的账号授予角色。"))
    # Lock the user row so two concurrent grants cannot both pass the check below.
    User.objects.select_for_update().filter(pk=user.pk).first()
    held: set[str] = set(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
    other_admin_roles = (held & ADMIN_ROLES) - {role}
    if role in ADMIN_ROLES and other_admin_roles:
        other = Role(next(iter(other_admin_roles))).label
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
    was = user.is_active
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(AuditAction.UPDATE, obj=user, changes={"is_active": [was, active]})


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
        expires_at=timezone.now() + timedelta(days=days) if days else None,
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

# Sent by save_versioned before it writes. A receiver may set fields derived from the edited
# ones on the instance (a search key, a flag) and return their names: they are written too.
versioned_update = Signal()


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


def _attname(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field.attname


@transaction.atomic
def save_versioned(instance: M, *, expected_version: int, fields: list[str]) -> M:
    """Write `fields` only if the row is still at `expected_version`; never last-write-wins.

    On a conflict nothing is written, and the error lists every field where the saved record
    now differs from what this edit would have written (theirs, yours)."""
    model = type(instance)
    written = list(fields)
    for _receiver, derived in versioned_update.send(sender=model, instance=instance):
        written += [f for f in derived or () if f not in written]
    attnames = {f: _attname(model, f) for f in written}
    values = {f: getattr(instance, attnames[f]) for f in written}
    updated = model._default_manager.filter(pk=instance.pk, version=expected_version).update(
        **{attnames[f]: v for f, v in values.items()},
        version=F("version") + 1,
    )
    if updated == 0:
        current = model._default_manager.get(pk=instance.pk)
        conflicts = [
            FieldConflict(
                f,
                str(getattr(model._meta.get_field(f), "verbose_name", f)),
                getattr(current, attnames[f]),
                values[f],
            )
            for f in fields
            if getattr(current, attnames[f]) != values[f]
        ]
        raise ConcurrentEditError(conflicts, current.version)
    instance.version = expected_version + 1
    diff: dict[str, Any] = instance.audit_diff() if isinstance(instance, audit.AuditedModel) else {}
    audit.record(AuditAction.UPDATE, obj=instance, changes=diff)
    instance._loaded_values = {  # type: ignore[attr-defined]
        f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields
    }
    return instance

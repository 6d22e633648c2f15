"""The audit trail: who did what to which object, from where, and what changed.

Rows are chained: each carries SHA-256(previous hash + its own canonical content), so an
edited or removed row breaks the chain (`sanlian audit_verify`). Writers take a database
lock first so that the chain stays linear under concurrency.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from .models import AuditAction, AuditEntry

GENESIS = "0" * 64
# Fields never copied into the audit trail: secrets, ciphertexts and bookkeeping.
SECRET_FIELDS = frozenset({"password", "digest", "key", "id_number_encrypted", "body_encrypted"})
SKIP_FIELDS = frozenset({"version", "last_login", "search_text"})


@dataclass(frozen=True)
class RequestContext:
    user_id: int | None
    username: str
    ip: str | None
    # When given, the acting user is read from it at write time: an API call authenticates
    # by bearer token inside the view, long after the middleware set this context.
    request: HttpRequest | None = None

    def actor(self) -> tuple[int | None, str]:
        user = getattr(self.request, "user", None) if self.request is not None else None
        if user is not None and user.is_authenticated:
            return user.pk, user.get_username()
        return self.user_id, self.username


_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "sanlian_audit_context", default=None
)


def set_context(ctx: RequestContext | None) -> contextvars.Token[RequestContext | None]:
    return _context.set(ctx)


def reset_context(token: contextvars.Token[RequestContext | None]) -> None:
    _context.reset(token)


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def normalized_ip(ip: str | None) -> str | None:
    """The address in the form the database gives back, so that the hash computed before the
    INSERT matches the row read later (IPv6 is stored lower-case and compressed); anything
    that is not an address is dropped rather than failing the write."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
        if address.version == 6:
            return clean_ipv6_address(str(address))
    except (ValueError, ValidationError):
        return None
    return str(address)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "ip": entry.ip,
        "changes": _jsonable(entry.changes),
    }


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(7310001)")
    # SQLite: transactions are IMMEDIATE, so the writer already holds the database lock.


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    actor_id: int | None = None,
    actor_name: str | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry; inside the caller's transaction, so it vanishes if the change does."""
    ctx = _context.get()
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    ctx_actor_id, ctx_actor_name = ctx.actor() if ctx is not None else (None, "system")
    if actor_id is None:
        actor_id = ctx_actor_id
    if actor_name is None:
        actor_name = ctx_actor_name
    if ip is None and ctx is not None:
        ip = ctx.ip
    ip = normalized_ip(ip)
    with transaction.atomic():
        _lock_chain()
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        entry = AuditEntry(
            at=timezone.now(),
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr[:200],
            ip=ip,
            changes=_jsonable(changes or {}),
            prev_hash=last or GENESIS,
        )
        entry.hash = entry_hash(entry.prev_hash, _hashed_fields(entry))
        entry.save()
    return entry


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def verify_chain(batch: int = 5000) -> ChainReport:
    """Walk the chain oldest first. The first remaining row anchors it (older ones may have
    been archived after the retention period)."""
    prev: str | None = None
    checked = 0
    qs = AuditEntry.objects.order_by("id")
    for entry in qs.iterator(chunk_size=batch):
        if prev is not None and entry.prev_hash != prev:
            return ChainReport(checked, entry.pk, "prev_hash does not match the previous entry")
        if entry_hash(entry.prev_hash, _hashed_fields(entry)) != entry.hash:
            return ChainReport(checked, entry.pk, "content does not match its hash")
        prev = entry.hash
        checked += 1
    return ChainReport(checked, None, "")


# ---- automatic entries for model changes -------------------------------------------------


class AuditedModel(models.Model):
    """Remembers the values it was loaded with, so an update can record what changed."""

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._loaded_values = dict(zip(field_names, values, strict=True))  # type: ignore[attr-defined]
        return instance

    def audit_snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in self._meta.concrete_fields:
            if field.attname in SKIP_FIELDS:
                continue
            value = getattr(self, field.attname)
            out[field.attname] = "***" if field.attname in SECRET_FIELDS else _jsonable(value)
        return out

    def audit_diff(self) -> dict[str, Any]:
        loaded: dict[str, Any] | None = getattr(self, "_loaded_values", None)
        now = self.audit_snapshot()
        if loaded is None:
            return {k: [None, v] for k, v in now.items()}
        diff = {}
        for key, new in now.items():
            old = "***" if key in SECRET_FIELDS else _jsonable(loaded.get(key))
            if old != new or (key in SECRET_FIELDS and loaded.get(key) != getattr(self, key)):
                diff[key] = [old, new]
        return diff


@receiver(post_save)
def _audit_save(
    sender: type[models.Model], instance: models.Model, created: bool, **_: Any
) -> None:
    if not isinstance(instance, AuditedModel) or getattr(instance, "_skip_audit", False):
        return
    diff = instance.audit_diff()
    if not created and not diff:
        return
    record(AuditAction.CREATE if created else AuditAction.UPDATE, obj=instance, changes=diff)
    instance._loaded_values = {  # type: ignore[attr-defined]
        f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields
    }


@receiver(post_delete)
def _audit_delete(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    if isinstance(instance, AuditedModel):
        record(AuditAction.DELETE, obj=instance, changes=instance.audit_snapshot())


# ---- logins ------------------------------------------------------------------------------


@receiver(user_logged_in)
def _audit_login(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    record(
        AuditAction.LOGIN,
        obj=user,
        actor_id=user.pk,
        actor_name=user.username,
        ip=client_ip(request) if request is not None else None,
    )


@receiver(user_logged_out)
def _audit_logout(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if user is not None:
        record(
            AuditAction.LOGOUT,
            obj=user,
            actor_id=user.pk,
            actor_name=user.username,
            ip=client_ip(request) if request is not None else None,
        )


@receiver(user_login_failed)
def _audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    record(
        AuditAction.LOGIN_FAILED,
        object_type="core.User",
        object_repr=username,
        actor_id=None,
        actor_name=username,
        ip=client_ip(request) if request is not None else None,
    )


def record_view(request: HttpRequest, obj: models.Model, what: str = "") -> None:
    """A confidential record was shown (full ID number, case file...)."""
    record(AuditAction.VIEW, obj=obj, changes={"viewed": what} if what else {})

"""Signal receivers of core that are not about the audit trail."""

from typing import Any

from axes.signals import user_locked_out
from django.dispatch import receiver
from django.http import HttpRequest

from . import audit
from .models import AuditAction


@receiver(user_locked_out)
def _audit_lockout(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **_: Any
) -> None:
    audit.record(
        AuditAction.LOCKED_OUT,
        object_type="core.User",
        object_repr=username or "",
        actor_id=None,
        actor_name=username or "",
        ip=audit.client_ip(request) if request is not None else None,
    )

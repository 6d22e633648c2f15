"""Explicit lifecycles: the allowed transitions of calls, applications, projects and
disbursements, and who may make each. A forbidden transition is refused with a Chinese
message that says why (services call `check`; pages and the API show the same message)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from sanlian.core.scoping import scope_for

if TYPE_CHECKING:
    from sanlian.core.models import User


@dataclass(frozen=True)
class Transition:
    name: str  # the action, e.g. "submit"
    label: str | Promise  # 提交
    sources: tuple[str, ...]
    target: str
    roles: frozenset[str]


class Lifecycle:
    """The transitions of one model's `status` field."""

    def __init__(self, choices: type[models.TextChoices], transitions: Iterable[Transition]):
        self.choices = choices
        self.transitions = {t.name: t for t in transitions}

    def get(self, name: str) -> Transition:
        return self.transitions[name]

    def allowed(self, obj: Any, user: User | None) -> list[Transition]:
        """The transitions this user may make from the object's current status."""
        roles = scope_for(user).roles if user is not None else frozenset()
        return [
            t
            for t in self.transitions.values()
            if obj.status in t.sources and (user is None or roles & t.roles)
        ]

    def check(self, obj: Any, name: str, user: User | None) -> Transition:
        """The transition, or ValidationError saying why it may not happen now.

        `user=None` is the system itself (a task, a service acting on another's behalf):
        only the status rule applies."""
        t = self.transitions[name]
        if obj.status not in t.sources:
            current = self.choices(obj.status).label
            allowed = _("、").join(str(self.choices(s).label) for s in t.sources)
            raise ValidationError(
                _("当前状态为“%(current)s”，不能执行“%(action)s”（仅限%(allowed)s状态）。")
                % {"current": current, "action": t.label, "allowed": allowed},
                code="transition",
            )
        if user is not None and not (scope_for(user).roles & t.roles):
            raise ValidationError(
                _("您的角色无权执行“%(action)s”。") % {"action": t.label},
                code="transition_role",
            )
        return t

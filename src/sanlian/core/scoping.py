"""The one scoping mechanism: what a user's place in the organisation tree lets them see.

Every list, detail, export and API endpoint reads through `Model.objects.visible_to(user)`,
which asks the model's QuerySet for a `Q` given the user's `Scope`. A model without a scope
rule cannot be listed (the scoping tests enumerate all models).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self

from django.db import models
from django.db.models import Q

from .roles import ADMIN_ROLES, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from .models import User

# Roles whose view is a subtree of the organisation tree (city > district > street > community).
AREA_ROLES = frozenset(
    {Role.FEDERATION_STAFF, Role.AREA_STAFF, Role.COMMUNITY_CADRE, Role.PARTY_SECRETARY}
)


class OrgNode(Protocol):
    pk: int
    path: str

    def area_node(self) -> OrgNode: ...


@dataclass(frozen=True)
class Scope:
    """What one user may see, computed once per request."""

    user_id: int | None
    roles: frozenset[str]
    # Materialized path of the area subtree the user sees, e.g. "/1/4/", or None.
    area_path: str | None
    # The user's own organisation (a social organisation, an evaluator, a volunteer team...).
    org_id: int | None
    # Ids a scope rule looked up once for this scope (e.g. the user's social-worker records),
    # so that its filters compare indexed ids instead of joining through the user.
    lookups: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_admin(self) -> bool:
        return bool(self.roles & ADMIN_ROLES)


ANONYMOUS = Scope(user_id=None, roles=frozenset(), area_path=None, org_id=None)
NOTHING = Q(pk__in=[])


def scope_for(user: User | AnonymousUser | None) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached: Scope | None = getattr(user, "_sanlian_scope", None)
    if cached is not None:
        return cached
    roles = frozenset(user.role_names())
    org: Any = user.organization
    area_path = None
    if org is not None and roles & AREA_ROLES:
        area_path = org.area_node().path
    scope = Scope(
        user_id=user.pk,
        roles=roles,
        area_path=area_path,
        org_id=org.pk if org is not None else None,
    )
    user._sanlian_scope = scope  # type: ignore[attr-defined]
    return scope


def path_q(scope: Scope, field: str) -> Q:
    """Rows whose organisation path (through `field`) lies in the user's area subtree."""
    if scope.area_path is None:
        return NOTHING
    return Q(**{f"{field}__startswith": scope.area_path})


class ScopedQuerySet(models.QuerySet[Any]):
    """Base for every domain QuerySet. Subclasses define `scope_q`."""

    def scope_q(self, scope: Scope) -> Q:
        raise NotImplementedError(f"{self.model.__name__} has no scope rule")

    def visible_to(self, user: User | AnonymousUser | None) -> Self:
        scope = scope_for(user)
        if scope.is_anonymous:
            return self.none()
        return self.filter(self.scope_q(scope))

"""JSON API of core: authentication (session or bearer token), the caller, task runs."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema
from ninja.security import HttpBearer, SessionAuth

from .middleware import second_factor_required
from .models import ApiToken, TaskRun


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(digest=ApiToken.digest_of(token))
            .first()
        )
        if api_token is None or not api_token.user.is_active:
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now())
        request.user = api_token.user
        return api_token.user


class ActiveSessionAuth(SessionAuth):
    """Session auth that also honours the forced password change and the second factor
    (administrators always, others once they have enrolled one), as the pages do."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user is None or user.must_change_password:
            return None
        if second_factor_required(user) and not user.is_verified():
            return None
        return user


AUTH = [ActiveSessionAuth(), TokenAuth()]

router = Router(tags=["core"])


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    roles: list[str]
    organization_id: int | None
    organization_name: str | None


class TaskRunOut(Schema):
    id: uuid.UUID
    name: str
    status: str
    progress: int
    total: int
    percent: int
    message: str
    result: dict[str, Any]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.user
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "roles": user.role_names(),
        "organization_id": user.organization_id,
        "organization_name": user.organization.name if user.organization else None,
    }


@router.get("/tasks/{run_id}", response=TaskRunOut)
def task_run(request: HttpRequest, run_id: uuid.UUID) -> TaskRun:
    return get_object_or_404(TaskRun.objects.visible_to(request.user), pk=run_id)

"""JSON API of core: authentication (session or bearer token), the caller, task runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, overload

from django.core.exceptions import ValidationError
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.security import HttpBearer, SessionAuth

from .middleware import second_factor_required
from .models import ApiToken, TaskRun


class PageRows(Sequence[dict[str, Any]]):
    """A queryset's rows as API dicts, built only for the page asked: ninja's `paginate`
    counts this with one COUNT and slices it, where a list would turn every row the caller
    may see into a dict first (every case of an organisation, to show 50)."""

    def __init__(self, rows: Any, out: Callable[[Any], dict[str, Any]]) -> None:
        self.rows, self.out = rows, out
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = self.rows.count()
        return self._count

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self.out(row) for row in self.rows[index]]
        return self.out(self.rows[index])


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


# ---- shared by every app's API: bodies as form data, refusals as 400 -----------------------


class ErrorOut(Schema):
    detail: Any


def form_errors(*sources: BaseForm | BaseFormSet | ValidationError) -> Status[dict[str, Any]]:  # type: ignore[type-arg]
    """400 with the errors of forms, formsets (rows numbered from 0) or a ValidationError."""
    detail: dict[str, list[str]] = {}
    for source in sources:
        if isinstance(source, ValidationError):
            if hasattr(source, "error_dict"):
                for k, v in source.message_dict.items():
                    detail.setdefault(k, []).extend(str(m) for m in v)
            else:
                detail.setdefault("__all__", []).extend(str(m) for m in source.messages)
        elif isinstance(source, BaseFormSet):
            row_errors: list[Any] = source.errors
            for i, errors in enumerate(row_errors):
                for k, v in errors.items():
                    detail.setdefault(f"{source.prefix}.{i}.{k}", []).extend(str(m) for m in v)
            if source.non_form_errors():
                detail.setdefault(str(source.prefix), []).extend(
                    str(m) for m in source.non_form_errors()
                )
        else:
            for name, field_errors in source.errors.items():
                detail.setdefault(name, []).extend(str(m) for m in field_errors)
    return Status(400, {"detail": detail})


def formset_data(prefix: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """JSON rows as the POST data of a formset."""
    data: dict[str, Any] = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": 0}
    for i, row in enumerate(rows):
        for key, value in row.items():
            if value is None or value is False:
                continue  # an unchecked box or an empty choice is simply absent
            data[f"{prefix}-{i}-{key}"] = (
                value.isoformat() if hasattr(value, "isoformat") else value
            )
    return data


def form_data(values: dict[str, Any]) -> dict[str, Any]:
    """A JSON body as form data: None and False are absent, dates and times in ISO form,
    lists kept as lists."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or value is False:
            continue
        if isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            out[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return out

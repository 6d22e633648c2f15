"""Views of core: sign-in, account security, administration of accounts, the audit trail."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.apps import apps
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit, services
from .decorators import role_required
from .forms import (
    ApiTokenForm,
    AuditFilterForm,
    LoginForm,
    OTPTokenForm,
    PasswordResetByAdminForm,
    RoleGrantForm,
    UserCreateForm,
)
from .models import ApiToken, AuditAction, AuditEntry, RoleGrant, TaskRun, User
from .roles import Role
from .xlsx import xlsx_response


class SanlianLoginView(LoginView):
    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        ctx["session_expired"] = getattr(self.request, "session_expired", False)
        return ctx


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("您已安全退出。"))
    return redirect("login")


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@login_required
def bench_reference(request: HttpRequest) -> HttpResponse:
    """The pages benchmark's reference: what every signed-in page costs at the least (the
    middleware, the session, the base template) plus one indexed primary-key query. Mounted
    only with BENCH_REFERENCE_PAGE (bench/pages.py)."""
    user: User = request.user  # type: ignore[assignment]
    org_model = apps.get_model("organizations", "Organization")
    org = org_model.objects.filter(pk=user.organization_id).first()
    return render(request, "core/bench_reference.html", {"org": org})


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def _code_owed(request: HttpRequest) -> HttpResponse | None:
    """The way to otp_verify if this user has an authenticator and has not given its code.

    The account pages under /accounts/ are open before the second factor (to enrol, to change
    a first password), but the password alone must not replace the password or the device."""
    verified = bool(request.user.is_verified())  # type: ignore[union-attr]
    if verified or not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return None
    query = urlencode({"next": request.get_full_path()})
    return redirect(f"{reverse('otp_verify')}?{query}")


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if (owed := _code_owed(request)) is not None:
        return owed
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        services.password_changed(user=user)
        update_session_auth_hash(request, user)
        messages.success(request, _("密码已修改。"))
        return redirect("home")
    return render(request, "core/password_change.html", {"form": form})


def _totp_qr(device: TOTPDevice) -> str:
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: the code from the authenticator, or enrolment if none yet."""
    user: User = request.user  # type: ignore[assignment]
    next_url = _safe_next(request)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return redirect(reverse("otp_setup") + "?" + urlencode({"next": next_url}))
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            return HttpResponseRedirect(next_url)
        audit.record(AuditAction.LOGIN_FAILED, obj=user, changes={"second_factor": "wrong code"})
        form.add_error("token", _("验证码错误或已过期，请重新输入。"))
    return render(request, "core/otp_verify.html", {"form": form, "next": next_url})


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    next_url = _safe_next(request)
    # Replacing an enrolled authenticator takes its code first: otherwise the password alone
    # would bind a new device and so pass the second factor.
    if (owed := _code_owed(request)) is not None:
        return owed
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                TOTPDevice.objects.filter(user=user, confirmed=True).delete()
                device.confirmed = True
                device.save()
                audit.record(AuditAction.UPDATE, obj=user, changes={"second_factor": "enrolled"})
            otp_login(request, device)
            messages.success(request, _("两步验证已启用。"))
            return HttpResponseRedirect(next_url)
        form.add_error("token", _("验证码错误，请确认手机时间准确后重试。"))
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "core/otp_setup.html",
        {"form": form, "qr": _totp_qr(device), "secret": secret, "next": next_url},
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    new_raw = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_raw = services.api_token_create(
            user=user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
        form = ApiTokenForm()
    context = {
        "form": form,
        "new_raw": new_raw,
        "tokens": ApiToken.objects.visible_to(user).order_by("-created_at"),
        "has_totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
    }
    return render(request, "core/account.html", context)


@require_POST
@login_required
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.visible_to(request.user), pk=pk)
    services.api_token_revoke(token=token)
    messages.success(request, _("令牌已吊销。"))
    return redirect("account")


@login_required
def task_status(request: HttpRequest, pk: str) -> HttpResponse:
    run = get_object_or_404(TaskRun.objects.visible_to(request.user), pk=pk)
    return render(request, "core/task_status.html", {"run": run})


# ---- system administrator: accounts ------------------------------------------------------


def _organization_choices() -> list[tuple[int, str]]:
    from django.apps import apps

    org_model = apps.get_model("organizations", "Organization")
    return [(o.pk, f"{o.name}（{o.get_kind_display()}）") for o in org_model.objects.active()]


@role_required(Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)
def user_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    users = User.objects.visible_to(request.user).select_related("organization")
    if q:
        users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    page = Paginator(users.order_by("username").prefetch_related("role_grants"), 50).get_page(
        request.GET.get("page")
    )
    can_create = request.user.has_role(Role.SYSTEM_ADMIN)  # type: ignore[union-attr]
    return render(request, "core/user_list.html", {"page": page, "q": q, "can_create": can_create})


@role_required(Role.SYSTEM_ADMIN)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None, organizations=_organization_choices())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                username=data["username"],
                full_name=data["full_name"],
                organization_id=data["organization"],
                password=data["password"],
                created_by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("账号 %(u)s 已创建，首次登录须修改密码。") % {"u": user})
            return redirect("user_detail", pk=user.pk)
    return render(request, "core/user_form.html", {"form": form})


# What each form on the account page does, and whose duty it is.
USER_ACTIONS: dict[str, str] = {
    "grant": Role.SECURITY_ADMIN,
    "revoke": Role.SECURITY_ADMIN,
    "reset": Role.SYSTEM_ADMIN,
    "active": Role.SYSTEM_ADMIN,
}


@role_required(Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    me: User = request.user  # type: ignore[assignment]
    target = get_object_or_404(User.objects.visible_to(me).select_related("organization"), pk=pk)
    grant_form = RoleGrantForm(request.POST if "grant" in request.POST else None)
    reset_form = PasswordResetByAdminForm(
        request.POST if "reset" in request.POST else None, user=target
    )
    if request.method == "POST":
        action = next((a for a in USER_ACTIONS if a in request.POST), None)
        # 三员分立: roles are the security administrator's, accounts the system administrator's.
        if action is None or not me.has_role(USER_ACTIONS[action]):
            raise PermissionDenied
        if action == "grant" and grant_form.is_valid():
            try:
                services.user_grant_role(
                    user=target, role=grant_form.cleaned_data["role"], granted_by=me
                )
            except ValidationError as exc:
                grant_form.add_error("role", exc)
            else:
                messages.success(request, _("角色已授予。"))
                return redirect("user_detail", pk=pk)
        elif action == "revoke":
            services.user_revoke_role(user=target, role=request.POST["revoke"])
            messages.success(request, _("角色已撤销。"))
            return redirect("user_detail", pk=pk)
        elif action == "reset" and reset_form.is_valid():
            services.user_reset_password(user=target, password=reset_form.cleaned_data["password"])
            messages.success(request, _("密码已重置，该用户下次登录须修改密码。"))
            return redirect("user_detail", pk=pk)
        elif action == "active" and target != me:
            services.user_set_active(user=target, active=request.POST["active"] == "1")
            return redirect("user_detail", pk=pk)
    context = {
        "target": target,
        "grants": RoleGrant.objects.visible_to(me).filter(user=target),
        "grant_form": grant_form,
        "reset_form": reset_form,
        "can_grant": me.has_role(Role.SECURITY_ADMIN),
        "can_manage": me.has_role(Role.SYSTEM_ADMIN),
    }
    return render(request, "core/user_detail.html", context)


# ---- audit administrator: the trail ------------------------------------------------------


def _filtered_audit(request: HttpRequest) -> tuple[AuditFilterForm, Any]:
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.visible_to(request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            entries = entries.filter(
                Q(actor_name__icontains=data["q"])
                | Q(object_repr__icontains=data["q"])
                | Q(object_type__icontains=data["q"])
            )
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["date_from"]:
            entries = entries.filter(at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(at__date__lte=data["date_to"])
    return form, entries


@role_required(Role.AUDIT_ADMIN)
def audit_list(request: HttpRequest) -> HttpResponse:
    form, entries = _filtered_audit(request)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"form": form, "page": page})


@role_required(Role.AUDIT_ADMIN)
def audit_export(request: HttpRequest) -> HttpResponse:
    _form, entries = _filtered_audit(request)
    audit.record(AuditAction.EXPORT, object_type="core.AuditEntry", changes=dict(request.GET))
    headers = [
        _("时间"),
        _("操作人"),
        _("操作"),
        _("对象类型"),
        _("对象ID"),
        _("对象"),
        _("来源地址"),
        _("变更内容"),
        _("哈希"),
    ]
    rows = (
        [
            e.at,
            e.actor_name,
            e.get_action_display(),
            e.object_type,
            e.object_id,
            e.object_repr,
            e.ip,
            str(e.changes),
            e.hash,
        ]
        for e in entries.iterator(chunk_size=2000)
    )
    return xlsx_response("audit.xlsx", headers, rows, title=_("审计记录"))


@role_required(Role.AUDIT_ADMIN)
def audit_verify(request: HttpRequest) -> HttpResponse:
    report = audit.verify_chain()
    return render(request, "core/audit_verify.html", {"report": report})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A request with a missing or forged CSRF token: refused, audited, explained in Chinese."""
    audit.record(
        AuditAction.PERMISSION,
        object_type="csrf",
        object_repr=request.path[:200],
        changes={"refused": "csrf", "reason": reason[:200]},
    )
    return render(request, "core/csrf_failure.html", status=403)

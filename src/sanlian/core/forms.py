"""Forms of core: login, accounts, roles, audit filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import AuditAction, User
from .roles import Role


class SearchableSelect(forms.Select):
    """A select of a few likely choices with a search box above it that fetches others from
    `search_url` (htmx, `?q=`): for choosing among thousands, such as every organisation of a
    city, without sending them all in every page. The field's queryset still validates; only
    the options drawn are limited (`limit_choices`)."""

    template_name = "core/widgets/searchable_select.html"

    def __init__(self, attrs: dict[str, Any] | None = None, search_url: str = "") -> None:
        super().__init__(attrs)
        self.search_url = search_url

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["search_url"] = self.search_url
        return context


def limit_choices(field: forms.ModelChoiceField, shown: list[Any], value: Any = None) -> None:  # type: ignore[type-arg]
    """Draw only `shown` (and the chosen row, if any) as the options of `field`, whose
    queryset — every row that may be chosen — stays as it is for validation."""
    rows = list(shown)
    if value not in (None, "") and str(value) not in {str(r.pk) for r in rows}:
        rows += list(field.queryset.filter(pk=value)) if str(value).isdigit() else []  # type: ignore[union-attr]
    field.widget.choices = [("", field.empty_label or "")] + [
        (r.pk, field.label_from_instance(r)) for r in rows
    ]


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码错误。"),
        "inactive": _("该账号已停用，请联系系统管理员。"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Say the lockout rule as configured (SANLIAN_LOGIN_FAILURE_LIMIT / _LOCKOUT_MINUTES).
        self.error_messages = {
            **self.error_messages,
            "invalid_login": _(
                "用户名或密码错误。连续%(limit)d次错误后账号将被锁定%(minutes)d分钟。"
            )
            % {
                "limit": settings.AXES_FAILURE_LIMIT,
                "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            },
        }
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")


class UserCreateForm(forms.Form):
    """A new account, by the system administrator. It carries no roles: granting them is the
    security administrator's duty (三员分立), on the account's page."""

    username = forms.RegexField(
        label=_("用户名"),
        regex=r"^[A-Za-z0-9_.-]{3,40}$",
        error_messages={"invalid": _("用户名只能包含字母、数字、下划线、点和连字符，3至40位")},
    )
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    organization = forms.TypedChoiceField(label=_("所属组织"), coerce=int)
    password = forms.CharField(
        label=_("初始密码"),
        widget=forms.PasswordInput,
        help_text=_("至少8位，含大写字母、小写字母、数字、特殊符号中的至少3类；首次登录须修改"),
    )

    def __init__(self, *args: Any, organizations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = organizations  # type: ignore[attr-defined]

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        # An unsaved user, so that a password like the username or name is refused too.
        candidate = User(
            username=self.cleaned_data.get("username", ""),
            full_name=self.cleaned_data.get("full_name", ""),
        )
        password_validation.validate_password(password, candidate)
        return password


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)


class PasswordResetByAdminForm(forms.Form):
    password = forms.CharField(label=_("新的临时密码"), widget=forms.PasswordInput)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        password_validation.validate_password(password, self.user)
        return password


class OTPTokenForm(forms.Form):
    token = forms.RegexField(
        label=_("动态验证码"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("请输入验证器上显示的6位数字")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class AuditFilterForm(forms.Form):
    q = forms.CharField(label=_("操作人/对象"), required=False)
    action = forms.ChoiceField(
        label=_("操作"), required=False, choices=[("", _("全部")), *AuditAction.choices]
    )
    date_from = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=100)
    days = forms.TypedChoiceField(
        label=_("有效期"),
        coerce=int,
        choices=[(30, _("30天")), (90, _("90天")), (365, _("一年"))],
        initial=90,
    )


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's refusal on the form fields it names (the rest on the form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "sanlian.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import audit, signals  # noqa: F401  (connect receivers)
        from .navigation import register
        from .roles import Role

        # Populate the task registry in every process, with or without Celery.
        autodiscover_modules("tasks")
        everyone = set(Role)
        register("home", _("工作台"), 0, (_("首页"), "home", everyone))
        register(
            "system",
            _("系统管理"),
            80,
            (_("用户与角色"), "user_list", {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}),
        )
        register(
            "audit",
            _("安全审计"),
            85,
            (_("审计日志"), "audit_list", {Role.AUDIT_ADMIN}),
            (_("完整性校验"), "audit_verify", {Role.AUDIT_ADMIN}),
        )
        register("me", _("我的账号"), 90, (_("账号与安全"), "account", everyone))

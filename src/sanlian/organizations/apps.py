from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "sanlian.organizations"
    label = "organizations"
    verbose_name = "组织联建"

    def ready(self) -> None:
        from sanlian.core.navigation import register
        from sanlian.core.roles import Role
        from sanlian.core.scoping import AREA_ROLES

        area = set(AREA_ROLES)
        register(
            "organizations",
            _("组织联建"),
            10,
            (_("组织架构"), "organizations:organization_tree", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("社区"), "organizations:community_list", area),
            (_("居民与会员"), "organizations:person_list", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("社工"), "organizations:social_worker_list", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("志愿者"), "organizations:volunteer_list", area),
        )

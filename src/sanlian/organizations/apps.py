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
            (_("场地"), "organizations:venue_list", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("居民与会员"), "organizations:person_list", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("会籍预警"), "organizations:lapsed_list", area),
            (
                _("疑似重复"),
                "organizations:duplicate_list",
                {Role.FEDERATION_STAFF, Role.AREA_STAFF, Role.COMMUNITY_CADRE},
            ),
            (_("查找"), "organizations:search", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("社工"), "organizations:social_worker_list", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("志愿者"), "organizations:volunteer_list", area),
            (_("服务时长确认"), "organizations:hour_queue", area),
            (_("联建协议"), "organizations:agreement_list", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("建会入会"), "organizations:unionbuilding_list", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("工会法培训"), "organizations:training_list", area | {Role.SOCIAL_ORG_MANAGER}),
            (_("数据导入"), "organizations:import_home", area | {Role.SOCIAL_ORG_MANAGER}),
        )
        # A volunteer's own pages (a section of its own: volunteers see no 组织联建 section).
        register(
            "volunteering",
            _("志愿服务"),
            11,
            (_("记录服务时长"), "organizations:volunteer_me", {Role.VOLUNTEER}),
        )

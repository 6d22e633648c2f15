"""The roles of DOMAIN.md, and the three separated administrator duties (三员分立)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FEDERATION_STAFF = "federation_staff", _("市总工会工作人员")
    AREA_STAFF = "area_staff", _("区/街道工会工作人员")
    COMMUNITY_CADRE = "community_cadre", _("社区联合工会干部")
    PARTY_SECRETARY = "party_secretary", _("社区党组织书记")
    SOCIAL_ORG_MANAGER = "social_org_manager", _("社会组织负责人")
    SOCIAL_WORKER = "social_worker", _("社工")
    VOLUNTEER = "volunteer", _("志愿者")
    EVALUATOR = "evaluator", _("第三方评估人员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


# No account may hold two of these (GB/T 22239-2019 三员分立).
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
# Roles that work with the business data of the three links.
BUSINESS_ROLES = frozenset(set(Role) - ADMIN_ROLES)

"""The JSON API under /api/, assembled from each app's router; schema at /api/openapi.json."""

from ninja import NinjaAPI

from sanlian.core.api import AUTH
from sanlian.core.api import router as core_router
from sanlian.delivery.api import router as delivery_router
from sanlian.insights.api import router as insights_router
from sanlian.organizations.api import router as organizations_router
from sanlian.resources.api import router as resources_router

api = NinjaAPI(
    title="三联平台 API",
    version="1",
    description="组织联建、资源联合、服务联动、数据分析。会话或 Bearer 令牌认证；所有数据按账号所在组织范围过滤。",
    auth=AUTH,
    urls_namespace="api",
)
api.add_router("/", core_router)
api.add_router("/", organizations_router)
api.add_router("/", resources_router)
api.add_router("/", delivery_router)
api.add_router("/", insights_router)

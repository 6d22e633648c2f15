from django.urls import include, path

from .api import api

urlpatterns = [
    path("", include("sanlian.core.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("org/", include("sanlian.organizations.urls")),
    path("res/", include("sanlian.resources.urls")),
    path("svc/", include("sanlian.delivery.urls")),
    path("insights/", include("sanlian.insights.urls.analysis")),
    path("", include("sanlian.insights.urls")),
]

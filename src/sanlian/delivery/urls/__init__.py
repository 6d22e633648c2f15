"""URLs of 服务联动, one module per part."""

from . import activities, cases, demands, groups, surveys

app_name = "delivery"

urlpatterns = [
    *surveys.urlpatterns,
    *demands.urlpatterns,
    *cases.urlpatterns,
    *groups.urlpatterns,
    *activities.urlpatterns,
]

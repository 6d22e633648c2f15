"""URLs of 资源联合, one module per part (funding: pools, calls, applications, reviews;
projects: contracts, milestones, disbursements, evaluations; ledger: resources, venues)."""

from . import funding, ledger, projects

app_name = "resources"

urlpatterns = [*funding.urlpatterns, *projects.urlpatterns, *ledger.urlpatterns]

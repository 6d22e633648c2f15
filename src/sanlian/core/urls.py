from django.conf import settings
from django.urls import path

from . import views

urlpatterns = [
    path("accounts/login/", views.SanlianLoginView.as_view(), name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/otp/verify/", views.otp_verify, name="otp_verify"),
    path("accounts/otp/setup/", views.otp_setup, name="otp_setup"),
    path("account/", views.account, name="account"),
    path("account/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("tasks/<uuid:pk>/", views.task_status, name="task_status"),
    path("system/users/", views.user_list, name="user_list"),
    path("system/users/new/", views.user_create, name="user_create"),
    path("system/users/<int:pk>/", views.user_detail, name="user_detail"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/export.xlsx", views.audit_export, name="audit_export"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("healthz", views.healthz, name="healthz"),
]

if settings.BENCH_REFERENCE_PAGE:
    urlpatterns.append(path("bench/reference/", views.bench_reference, name="bench_reference"))

"""The home page at the root (no namespace: `home` is the name every app redirects to); the
analysis pages live in `urls.analysis` under /insights/ (namespace `insights`)."""

from django.urls import path

from .. import views

urlpatterns = [path("", views.home, name="home")]

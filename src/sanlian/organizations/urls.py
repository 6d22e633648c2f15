from django.urls import path

from . import views

app_name = "organizations"

urlpatterns = [
    path("tree/", views.organization_tree, name="organization_tree"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization_edit"),
    path("communities/", views.community_list, name="community_list"),
    path("communities/<int:pk>/", views.community_detail, name="community_detail"),
    path("communities/<int:pk>/edit/", views.community_edit, name="community_edit"),
    path("people/", views.person_list, name="person_list"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("social-workers/", views.social_worker_list, name="social_worker_list"),
    path("volunteers/", views.volunteer_list, name="volunteer_list"),
]

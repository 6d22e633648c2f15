from django.urls import path

from .views import people, tree, workforce

app_name = "organizations"

urlpatterns = [
    # -- the tree and communities
    path("tree/", tree.organization_tree, name="organization_tree"),
    path("organizations/<int:pk>/", tree.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", tree.organization_edit, name="organization_edit"),
    path("communities/", tree.community_list, name="community_list"),
    path("communities/<int:pk>/", tree.community_detail, name="community_detail"),
    path("communities/<int:pk>/edit/", tree.community_edit, name="community_edit"),
    # -- people and memberships
    path("people/", people.person_list, name="person_list"),
    path("people/<int:pk>/", people.person_detail, name="person_detail"),
    # -- social workers and volunteers
    path("social-workers/", workforce.social_worker_list, name="social_worker_list"),
    path("volunteers/", workforce.volunteer_list, name="volunteer_list"),
    # -- co-building agreements and joint meetings
    # -- union building in social organisations and trainings
    # -- Excel import
]

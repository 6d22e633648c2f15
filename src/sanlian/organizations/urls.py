from django.urls import path

from .views import cobuilding, imports, people, tree, unionbuilding, workforce

app_name = "organizations"

urlpatterns = [
    # -- the tree and communities
    path("tree/", tree.organization_tree, name="organization_tree"),
    path("organizations/<int:pk>/", tree.organization_detail, name="organization_detail"),
    path("organizations/<int:pk>/edit/", tree.organization_edit, name="organization_edit"),
    path("organizations/new/", tree.organization_create, name="organization_create"),
    path("organizations/<int:pk>/move/", tree.organization_move, name="organization_move"),
    path("organizations/<int:pk>/retire/", tree.organization_retire, name="organization_retire"),
    path(
        "organizations/<int:pk>/reactivate/",
        tree.organization_reactivate,
        name="organization_reactivate",
    ),
    path("communities/", tree.community_list, name="community_list"),
    path("communities/new/", tree.community_create, name="community_create"),
    path("communities/<int:pk>/", tree.community_detail, name="community_detail"),
    path("communities/<int:pk>/edit/", tree.community_edit, name="community_edit"),
    path(
        "communities/<int:pk>/restructure/<str:kind>/",
        tree.community_restructure,
        name="community_restructure",
    ),
    path("venues/", tree.venue_list, name="venue_list"),
    path("venues/new/", tree.venue_create, name="venue_create"),
    path("venues/<int:pk>/", tree.venue_detail, name="venue_detail"),
    path("venues/<int:pk>/edit/", tree.venue_edit, name="venue_edit"),
    # -- people and memberships
    path("people/", people.person_list, name="person_list"),
    path("people/new/", people.person_create, name="person_create"),
    path("people/<int:pk>/", people.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", people.person_edit, name="person_edit"),
    path("people/<int:pk>/tags/", people.person_tags, name="person_tags"),
    path("people/<int:pk>/household/", people.household_create, name="household_create"),
    path("people/<int:pk>/join/", people.membership_join, name="membership_join"),
    path("people/duplicates/", people.duplicate_list, name="duplicate_list"),
    path("people/merge/", people.person_merge, name="person_merge"),
    path("households/<int:pk>/", people.household_detail, name="household_detail"),
    path(
        "households/<int:pk>/remove/<int:person_pk>/",
        people.household_remove,
        name="household_remove",
    ),
    path("memberships/<int:pk>/transfer/", people.membership_transfer, name="membership_transfer"),
    path("memberships/<int:pk>/withdraw/", people.membership_withdraw, name="membership_withdraw"),
    path(
        "memberships/<int:pk>/reinstate/",
        people.membership_reinstate,
        name="membership_reinstate",
    ),
    path("memberships/<int:pk>/life/", people.membership_life, name="membership_life"),
    path("members/lapsed/", people.lapsed_list, name="lapsed_list"),
    path("search/", people.search_page, name="search"),
    # -- social workers and volunteers
    path("social-workers/", workforce.social_worker_list, name="social_worker_list"),
    path("social-workers/new/", workforce.social_worker_create, name="social_worker_create"),
    path("social-workers/<int:pk>/", workforce.social_worker_detail, name="social_worker_detail"),
    path("social-workers/<int:pk>/edit/", workforce.social_worker_edit, name="social_worker_edit"),
    path(
        "social-workers/<int:pk>/leave/", workforce.social_worker_leave, name="social_worker_leave"
    ),
    path("volunteers/", workforce.volunteer_list, name="volunteer_list"),
    path("volunteers/new/", workforce.volunteer_create, name="volunteer_create"),
    path("volunteers/me/", workforce.volunteer_me, name="volunteer_me"),
    path("volunteers/<int:pk>/", workforce.volunteer_detail, name="volunteer_detail"),
    path("volunteers/<int:pk>/edit/", workforce.volunteer_edit, name="volunteer_edit"),
    path("volunteer-hours/", workforce.hour_queue, name="hour_queue"),
    path("volunteer-hours/review/", workforce.hour_review, name="hour_review"),
    # -- co-building agreements and joint meetings
    path("cobuilding/", cobuilding.agreement_list, name="agreement_list"),
    path("cobuilding/new/", cobuilding.agreement_create, name="agreement_create"),
    path("cobuilding/<int:pk>/", cobuilding.agreement_detail, name="agreement_detail"),
    path("cobuilding/<int:pk>/edit/", cobuilding.agreement_edit, name="agreement_edit"),
    path(
        "cobuilding/<int:pk>/parties/add/",
        cobuilding.agreement_party_add,
        name="agreement_party_add",
    ),
    path(
        "cobuilding/<int:pk>/parties/<int:party_pk>/remove/",
        cobuilding.agreement_party_remove,
        name="agreement_party_remove",
    ),
    path("cobuilding/meetings/", cobuilding.meeting_list, name="meeting_list"),
    path("cobuilding/meetings/new/", cobuilding.meeting_create, name="meeting_create"),
    path("cobuilding/meetings/<int:pk>/", cobuilding.meeting_detail, name="meeting_detail"),
    path("cobuilding/meetings/<int:pk>/edit/", cobuilding.meeting_edit, name="meeting_edit"),
    path("cobuilding/meetings/<int:pk>/delete/", cobuilding.meeting_delete, name="meeting_delete"),
    path(
        "cobuilding/meetings/<int:pk>/follow-ups/add/",
        cobuilding.follow_up_add,
        name="follow_up_add",
    ),
    path(
        "cobuilding/follow-ups/<int:pk>/status/",
        cobuilding.follow_up_status,
        name="follow_up_status",
    ),
    path("cobuilding/follow-ups/overdue/", cobuilding.follow_up_overdue, name="follow_up_overdue"),
    # -- union building in social organisations and trainings
    path("union-building/", unionbuilding.unionbuilding_list, name="unionbuilding_list"),
    path(
        "union-building/org/<int:org_pk>/",
        unionbuilding.unionbuilding_detail,
        name="unionbuilding_detail",
    ),
    path(
        "union-building/org/<int:org_pk>/record/",
        unionbuilding.unionbuilding_create,
        name="unionbuilding_create",
    ),
    path(
        "union-building/<int:pk>/edit/",
        unionbuilding.unionbuilding_edit,
        name="unionbuilding_edit",
    ),
    path("trainings/", unionbuilding.training_list, name="training_list"),
    path("trainings/new/", unionbuilding.training_create, name="training_create"),
    path("trainings/<int:pk>/", unionbuilding.training_detail, name="training_detail"),
    path("trainings/<int:pk>/edit/", unionbuilding.training_edit, name="training_edit"),
    path(
        "trainings/<int:pk>/attendance/",
        unionbuilding.training_attendance,
        name="training_attendance",
    ),
    # -- Excel import
    path("imports/", imports.import_home, name="import_home"),
    path("imports/template/<slug:kind>.xlsx", imports.import_template, name="import_template"),
    path("imports/<uuid:pk>/", imports.import_run, name="import_run"),
    path("imports/<uuid:pk>/retry/", imports.import_retry, name="import_retry"),
    path("imports/<uuid:pk>/errors.xlsx", imports.import_errors, name="import_errors"),
]

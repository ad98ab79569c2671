from django.urls import path

from reviewapp.actions import views

app_name = "actions"

urlpatterns = [
    path("actions/", views.index, name="index"),
    path("actions/<int:action_pk>/", views.detail, name="detail"),
    path("actions/<int:action_pk>/update/", views.update, name="update"),
    path("teams/<slug:team_slug>/actions/", views.team_actions, name="team"),
    path("teams/<slug:team_slug>/actions.csv", views.export, {"fmt": "csv"}, name="export_csv"),
    path("teams/<slug:team_slug>/actions.json", views.export, {"fmt": "json"}, name="export_json"),
    path("designs/<int:pk>/findings/<str:item_key>/action/", views.track, name="track"),
]

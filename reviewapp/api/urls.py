from django.urls import path

from reviewapp.api import views

app_name = "tokens"

urlpatterns = [
    path("", views.token_list, name="list"),
    path("<int:token_pk>/revoke/", views.token_revoke, name="revoke"),
]

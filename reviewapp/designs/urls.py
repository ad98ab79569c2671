from django.urls import path

from reviewapp.designs import views

app_name = "designs"

urlpatterns = [
    path("", views.design_list, name="list"),
    path("new/", views.design_create, name="create"),
    path("<int:pk>/", views.design_detail, name="detail"),
    path("<int:pk>/edit/", views.design_edit, name="edit"),
    path("<int:pk>/status/", views.design_set_status, name="status"),
    path("<int:pk>/delete/", views.design_delete, name="delete"),
]

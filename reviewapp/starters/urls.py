from django.urls import path

from reviewapp.starters import views

app_name = "starters"

# Under /designs/templates/ (reviewapp/urls.py).
urlpatterns = [
    path("", views.starter_list, name="list"),
    path("<slug:template_key>/", views.starter_use, name="use"),
]

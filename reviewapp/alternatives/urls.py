from django.urls import path

from reviewapp.alternatives import views

app_name = "alternatives"

# Under /designs/compare/ (reviewapp/urls.py).
urlpatterns = [
    path("", views.compare_page, name="compare"),
    path("compare.pdf", views.compare_pdf, name="compare_pdf"),
]

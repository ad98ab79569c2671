from django.urls import path

from reviewapp.portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("report/", views.report_html, name="report"),
    path("report.json", views.report_json, name="report_json"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
]

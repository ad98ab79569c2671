from django.urls import path

from reviewapp.checklists import views

app_name = "checklists"

urlpatterns = [
    path("design/<int:pk>/review/", views.review_page, name="review"),
    path("design/<int:pk>/panel/", views.panel, name="panel"),
    path("design/<int:pk>/findings/<str:item_key>/", views.finding, name="finding"),
    path("design/<int:pk>/answers/<str:item_key>/", views.answer, name="answer"),
    path("design/<int:pk>/acceptances/<str:item_key>/", views.accept, name="accept"),
    path("design/<int:pk>/pin/", views.repin, name="repin"),
]

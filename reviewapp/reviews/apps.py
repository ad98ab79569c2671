from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviewapp.reviews"
    label = "reviews"
    verbose_name = "Reviews"

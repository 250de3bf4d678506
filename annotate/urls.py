from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.annotate, name="annotate"),
    path("p/<slug:slug>/submit/", views.submit, name="annotate-submit"),
    path("p/<slug:slug>/skip/", views.skip, name="annotate-skip"),
    path("p/<slug:slug>/undo/", views.undo, name="annotate-undo"),
]

from django.urls import path

from . import dashboard_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.annotate, name="annotate"),
    path("p/<slug:slug>/submit/", views.submit, name="annotate-submit"),
    path("p/<slug:slug>/skip/", views.skip, name="annotate-skip"),
    path("p/<slug:slug>/undo/", views.undo, name="annotate-undo"),
    path("p/<slug:slug>/dashboard/", dashboard_views.project_dashboard, name="project_dashboard"),
    path("p/<slug:slug>/dashboard/annotator/<int:user_id>/", dashboard_views.annotator_dashboard, name="annotator_dashboard"),
    path("p/<slug:slug>/dashboard/annotator/<int:user_id>/status/", dashboard_views.annotator_status, name="annotator_status"),
]

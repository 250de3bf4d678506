from django.urls import path

from . import views
from . import dashboard_views

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/dashboard/", dashboard_views.project_dashboard, name="project_dashboard"),
    path("p/<slug:slug>/dashboard/annotator/<int:user_id>/", dashboard_views.annotator_dashboard, name="annotator_dashboard"),
    path("p/<slug:slug>/dashboard/annotator/<int:user_id>/status/", dashboard_views.annotator_status, name="annotator_status"),
]

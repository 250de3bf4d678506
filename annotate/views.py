from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Project


@login_required
def home(request):
    projects = Project.objects.filter(memberships__user=request.user, is_active=True).order_by("name")
    return render(request, "annotate/home.html", {"projects": projects})

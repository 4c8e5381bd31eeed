"""Pages of the project as a whole, above every app."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from personas.selectors import persona_list_system


def home(request: HttpRequest) -> HttpResponse:
    """Send people who are signed in to their chat; welcome everybody else."""
    if request.user.is_authenticated:
        return redirect("chat:page")
    return render(request, "home.html", {"personas": persona_list_system()})

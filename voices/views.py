"""The voices settings page: a user's cloned voices, uploading, retrying and deleting them.

Also the two partials a voice is shown with (a row of this page, an option of the persona
modal), which the pages fetch rather than build, and which poll themselves while cloning.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mybella.core.forms import DOMAIN_ERRORS, add_domain_error, error_message
from mybella.core.throttles import throttle_page
from mybella.core.views import require_form_post
from voices import selectors, services
from voices.forms import VoiceUploadForm


def _render_page(
    request: HttpRequest, *, form: VoiceUploadForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "settings_section": "voices",
        "voices": list(selectors.custom_voice_list(user=request.user)),
        "form": form or VoiceUploadForm(),
    }
    return render(request, "voices/settings.html", context, status=status)


@login_required
@require_GET
def voice_settings(request: HttpRequest) -> HttpResponse:
    """Show the user's cloned voices and the upload form."""
    return _render_page(request)


@login_required
@require_form_post("voices:page")
@throttle_page("uploads")
def voice_upload(request: HttpRequest) -> HttpResponse:
    """Upload a recording and queue it for cloning."""
    form = VoiceUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            voice = services.custom_voice_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                upload=form.cleaned_data["sample"],
            )
        except DOMAIN_ERRORS as error:
            add_domain_error(form, error)
        else:
            if voice.status == voice.Status.WAITING:
                text = _("“%s” was uploaded; it is cloned once the server has an ElevenLabs key.")
            else:
                text = _("“%s” was uploaded and is being cloned.")
            messages.success(request, text % voice.name)
            return redirect("voices:page")
    return _render_page(request, form=form, status=400)


@login_required
@require_POST
@throttle_page("uploads")
def voice_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a voice whose cloning failed for another try; someone else's is a 404."""
    voice = selectors.custom_voice_get(user=request.user, pk=pk)
    try:
        services.custom_voice_retry(voice=voice, user=request.user)
    except DOMAIN_ERRORS as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, _("Trying to clone “%s” again.") % voice.name)
    return redirect("voices:page")


@login_required
@require_POST
def voice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a voice (its copy at ElevenLabs goes in the background); someone else's is
    a 404."""
    voice = selectors.custom_voice_get(user=request.user, pk=pk)
    try:
        services.custom_voice_delete(voice=voice, user=request.user)
    except DOMAIN_ERRORS as error:
        messages.error(request, error_message(error))
    else:
        messages.success(request, _("“%s” was deleted.") % voice.name)
    return redirect("voices:page")


@login_required
@require_GET
def voice_row(request: HttpRequest, pk: int) -> HttpResponse:
    """Render the caller's voice `pk` as a row of the voices page; someone else's is a 404."""
    voice = selectors.custom_voice_get(user=request.user, pk=pk)
    return render(request, "voices/_voice_row.html", {"voice": voice})


@login_required
@require_GET
def voice_option(request: HttpRequest, pk: int) -> HttpResponse:
    """Render the caller's voice `pk` as a choice of the persona modal (`?chosen=` its id
    to check it); someone else's is a 404."""
    voice = selectors.custom_voice_get(user=request.user, pk=pk)
    context = {"voice": voice, "chosen_custom": request.GET.get("chosen", "")}
    return render(request, "voices/_voice_option.html", context)

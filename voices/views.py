"""The voices settings page: a user's cloned voices, uploading, retrying and deleting them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mybella.providers.speech import SpeechError
from voices import selectors, services
from voices.forms import VoiceUploadForm
from voices.models import CustomVoice


def _own_voice(request: HttpRequest, pk: int) -> CustomVoice:
    return get_object_or_404(selectors.custom_voice_list(user=request.user), pk=pk)


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
@require_POST
def voice_upload(request: HttpRequest) -> HttpResponse:
    form = VoiceUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            voice = services.custom_voice_create(
                owner=request.user,
                name=form.cleaned_data["name"],
                upload=form.cleaned_data["sample"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(request, _("“%s” was uploaded and is being cloned.") % voice.name)
            return redirect("voices:page")
    return _render_page(request, form=form, status=400)


@login_required
@require_POST
def voice_retry(request: HttpRequest, pk: int) -> HttpResponse:
    voice = _own_voice(request, pk)
    try:
        services.custom_voice_retry(voice=voice, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Trying to clone “%s” again.") % voice.name)
    return redirect("voices:page")


@login_required
@require_POST
def voice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    voice = _own_voice(request, pk)
    try:
        services.custom_voice_delete(voice=voice, user=request.user)
    except SpeechError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("“%s” was deleted.") % voice.name)
    return redirect("voices:page")

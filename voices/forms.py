from django import forms
from django.utils.translation import gettext_lazy as _


class VoiceUploadForm(forms.Form):
    """A recording to clone a voice from, and what to call it."""

    name = forms.CharField(label=_("Voice name"), max_length=80)
    sample = forms.FileField(
        label=_("Recording"),
        allow_empty_file=True,  # the sample check gives the friendlier message
        help_text=_(
            "10 seconds to 5 minutes of one person speaking clearly: MP3, WAV, OGG, M4A or "
            "FLAC, up to 10 MB."
        ),
        widget=forms.FileInput(attrs={"accept": "audio/*,.mp3,.wav,.ogg,.m4a,.flac"}),
    )

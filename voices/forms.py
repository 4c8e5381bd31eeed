from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from voices.audio import sample_help_text
from voices.models import CustomVoice


class VoiceUploadForm(forms.Form):
    """A recording to clone a voice from, and what to call it."""

    name = forms.CharField(
        label=_("Voice name"), max_length=CustomVoice._meta.get_field("name").max_length
    )
    sample = forms.FileField(
        label=_("Recording"),
        allow_empty_file=True,  # the sample check gives the friendlier message
        help_text=lazy(sample_help_text, str)(),  # read from settings when shown
        widget=forms.FileInput(attrs={"accept": "audio/*,.mp3,.wav,.ogg,.m4a,.flac"}),
    )

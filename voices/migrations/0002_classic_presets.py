"""Load the nine classic ElevenLabs voices and give the system personas fitting ones."""

from django.db import migrations

PRESETS = [
    # (voice id, name, description, labels, legacy)
    (
        "21m00Tcm4TlvDq8ikWAM",
        "Rachel",
        "Calm young American woman, good for narration.",
        {
            "gender": "female",
            "accent": "american",
            "age": "young",
            "use_case": "narration",
            "description": "calm",
        },
        True,
    ),
    (
        "pNInz6obpgDQGcFmaJgB",
        "Adam",
        "Deep middle-aged American man.",
        {
            "gender": "male",
            "accent": "american",
            "age": "middle aged",
            "use_case": "narration",
            "description": "deep",
        },
        False,
    ),
    (
        "EXAVITQu4vr4xnSDxMaL",
        "Bella",
        "Soft young American woman (ElevenLabs now calls this voice Sarah).",
        {
            "gender": "female",
            "accent": "american",
            "age": "young",
            "use_case": "narration",
            "description": "soft",
        },
        False,
    ),
    (
        "ErXwobaYiN019PkySvjV",
        "Antoni",
        "Well-rounded young American man.",
        {
            "gender": "male",
            "accent": "american",
            "age": "young",
            "use_case": "narration",
            "description": "well-rounded",
        },
        True,
    ),
    (
        "MF3mGyEYCl7XYWbV9V6O",
        "Elli",
        "Emotional young American woman.",
        {
            "gender": "female",
            "accent": "american",
            "age": "young",
            "use_case": "narration",
            "description": "emotional",
        },
        True,
    ),
    (
        "TxGEqnHWrfWFTfGW9XjX",
        "Josh",
        "Deep young American man.",
        {
            "gender": "male",
            "accent": "american",
            "age": "young",
            "use_case": "narration",
            "description": "deep",
        },
        True,
    ),
    (
        "VR6AewLTigWG4xSOukaG",
        "Arnold",
        "Crisp middle-aged American man.",
        {
            "gender": "male",
            "accent": "american",
            "age": "middle aged",
            "use_case": "narration",
            "description": "crisp",
        },
        True,
    ),
    (
        "AZnzlk1XvdvUeBnXmlld",
        "Domi",
        "Strong young American woman.",
        {
            "gender": "female",
            "accent": "american",
            "age": "young",
            "use_case": "narration",
            "description": "strong",
        },
        True,
    ),
    (
        "yoZ06aMxZJJ28mfd3POQ",
        "Sam",
        "Raspy young American man.",
        {
            "gender": "male",
            "accent": "american",
            "age": "young",
            "use_case": "narration",
            "description": "raspy",
        },
        True,
    ),
]

PERSONA_VOICES = {
    "isabella": "EXAVITQu4vr4xnSDxMaL",  # Bella: soft and warm
    "alex": "ErXwobaYiN019PkySvjV",  # Antoni: well-rounded, direct
    "luna": "MF3mGyEYCl7XYWbV9V6O",  # Elli: emotional, dreamy
    "maya": "AZnzlk1XvdvUeBnXmlld",  # Domi: strong, energetic
    "sam": "yoZ06aMxZJJ28mfd3POQ",  # Sam: raspy and calm
    "ethan": "pNInz6obpgDQGcFmaJgB",  # Adam: deep and measured
}


def load(apps, schema_editor):
    VoicePreset = apps.get_model("voices", "VoicePreset")
    PersonaProfile = apps.get_model("personas", "PersonaProfile")
    for voice_id, name, description, labels, legacy in PRESETS:
        VoicePreset.objects.update_or_create(
            provider="elevenlabs",
            provider_voice_id=voice_id,
            defaults={
                "name": name,
                "description": description,
                "labels": labels,
                "is_legacy": legacy,
            },
        )
    for slug, voice_id in PERSONA_VOICES.items():
        PersonaProfile.objects.filter(slug=slug, is_custom=False, voice_preset__isnull=True).update(
            voice_preset=VoicePreset.objects.get(provider="elevenlabs", provider_voice_id=voice_id)
        )


def unload(apps, schema_editor):
    VoicePreset = apps.get_model("voices", "VoicePreset")
    apps.get_model("personas", "PersonaProfile").objects.filter(
        slug__in=PERSONA_VOICES, is_custom=False
    ).update(voice_preset=None)
    VoicePreset.objects.filter(
        provider="elevenlabs", provider_voice_id__in=[p[0] for p in PRESETS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("voices", "0001_initial"), ("personas", "0003_voice")]

    operations = [migrations.RunPython(load, unload)]

"""The voices endpoints are in the OpenAPI schema (the project test checks warnings)."""

from drf_spectacular.generators import SchemaGenerator


def test_voice_paths_are_documented():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in [
        "/api/v1/voices/presets/",
        "/api/v1/voices/presets/{id}/",
        "/api/v1/voices/presets/{id}/preview/",
        "/api/v1/voices/custom/",
        "/api/v1/voices/custom/{id}/",
        "/api/v1/voices/custom/{id}/retry/",
        "/api/v1/voices/custom/{id}/sample/",
        "/api/v1/personas/{persona_id}/speak/",
        "/api/v1/personas/{persona_id}/voice/",
    ]:
        assert path in paths, path
    speak = paths["/api/v1/personas/{persona_id}/speak/"]["post"]["responses"]
    assert set(speak["200"]["content"]) == {"audio/mpeg", "audio/wav"}
    assert "503" in speak


def test_sample_limits_in_the_schema_follow_the_settings(settings):
    """The upload's documented limits come from VOICE_SAMPLE_*, as the page's do."""
    settings.VOICE_SAMPLE_MAX_SECONDS = 120
    schema = SchemaGenerator().get_schema(request=None, public=True)
    upload = schema["paths"]["/api/v1/voices/custom/"]["post"]["description"]
    sample = schema["components"]["schemas"]["CustomVoiceInputRequest"]["properties"]["sample"]
    for text in (upload, sample["description"]):
        assert "10 seconds to 2 minutes of one person speaking clearly" in text

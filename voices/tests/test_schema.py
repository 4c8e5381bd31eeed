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

"""The export of all your data is rebuilt whole each time: it is throttled like uploads."""

import pytest
from rest_framework.throttling import ScopedRateThrottle

pytestmark = pytest.mark.django_db

EXPORT_URL = "/api/v1/me/export/"


def test_export_is_throttled_like_file_uploads(auth_api_client, monkeypatch):
    """It shares the "uploads" rate (THROTTLE_UPLOADS) with imports and other exports."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "uploads", "2/min")
    codes = [auth_api_client.get(EXPORT_URL).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_profile_page_link_counts_too(client, user, monkeypatch):
    """The page's "Download my data" is the same endpoint, under the signed-in session."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "uploads", "1/min")
    client.force_login(user)
    assert client.get(EXPORT_URL).status_code == 200
    response = client.get(EXPORT_URL)
    assert response.status_code == 429
    assert "detail" in response.json()

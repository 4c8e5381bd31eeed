"""The search's results render as the generic serializer would render their declared fields."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from rest_framework import serializers

from memory.api.serializers import RecallSerializer
from memory.recall import Recalled, Turn

SAID = datetime(2023, 5, 3, 14, 30, 5, 120_000, tzinfo=UTC)
ITEMS = [
    Recalled("memory", 7, "Has a dog named Rex", 2.5, (3, 4), SAID, said_at=SAID),
    Recalled("memory", 8, "Likes tea", 0.0, (), datetime(2024, 1, 1, tzinfo=UTC)),
    Recalled(
        "message",
        12,
        "Did you walk the dog?",
        1.25,
        (12,),
        SAID,
        said_at=SAID,
        before=Turn(11, "user", "Rex again", datetime(2023, 5, 3, 14, 29, tzinfo=UTC), True),
        after=Turn(13, "assistant", "We did", datetime(2023, 5, 3, 14, 31, tzinfo=UTC), True),
    ),
    Recalled(
        "message",
        20,
        "Lisbon",
        1,
        (20,),
        SAID,
        said_at=SAID,
        after=Turn(21, "user", "trip", SAID, False),
    ),
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Lisbon", "America/New_York"])
def test_search_results_render_as_their_declared_fields(zone):
    generic = RecallSerializer()
    with timezone.override(zone):
        rendered = RecallSerializer(ITEMS, many=True).data
        expected = [serializers.Serializer.to_representation(generic, item) for item in ITEMS]

    assert rendered == expected
    assert [list(item) for item in rendered] == [list(item) for item in expected]
    assert all(
        type(a["score"]) is type(b["score"]) for a, b in zip(rendered, expected, strict=True)
    )

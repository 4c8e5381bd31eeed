"""A memory a newer one replaced, through the API: out of the list and recall, listed apart."""

import pytest

from chat.tests.factories import MemoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved(user, luna):
    porto = MemoryFactory(user=user, persona=luna, content="Lives in Porto")
    lisbon = MemoryFactory(user=user, persona=luna, content="Lives in Lisbon", superseded_by=porto)
    return lisbon, porto


def test_the_list_holds_what_counts_and_lists_the_replaced_apart(
    auth_api_client, luna, moved, django_assert_max_num_queries
):
    lisbon, porto = moved
    url = f"/api/v1/personas/{luna.pk}/memories/"
    with django_assert_max_num_queries(6):
        body = auth_api_client.get(url).json()
    assert [(m["id"], m["superseded_by"]) for m in body["results"]] == [(porto.pk, None)]
    replaced = auth_api_client.get(url, {"superseded": "true"}).json()["results"]
    assert [(m["id"], m["content"], m["superseded_by"]) for m in replaced] == [
        (lisbon.pk, "Lives in Lisbon", porto.pk)
    ]


def test_a_replaced_memory_is_read_with_its_link(auth_api_client, moved):
    lisbon, porto = moved
    body = auth_api_client.get(f"/api/v1/memories/{lisbon.pk}/").json()
    assert (body["content"], body["superseded_by"], body["happened_on"]) == (
        "Lives in Lisbon",
        porto.pk,
        None,
    )


@pytest.mark.parametrize("value", ["maybe", "2", "[]"])
def test_a_bad_superseded_flag_is_a_400(auth_api_client, luna, value):
    response = auth_api_client.get(f"/api/v1/personas/{luna.pk}/memories/", {"superseded": value})
    assert response.status_code == 400
    assert "superseded" in response.json()


def test_another_users_replaced_memories_are_not_listed(api_client, other_user, luna, moved):
    api_client.force_authenticate(other_user)
    url = f"/api/v1/personas/{luna.pk}/memories/"
    assert api_client.get(url, {"superseded": "true"}).json()["results"] == []


@pytest.mark.parametrize("pinned", [False, True])
def test_recall_never_returns_a_replaced_memory(auth_api_client, user, luna, pinned):
    """Found by its words or brought by its pin, a replaced memory stays out of the search."""
    porto = MemoryFactory(user=user, persona=luna, content="Lives in Porto by the river")
    MemoryFactory(
        user=user,
        persona=luna,
        content="Lives in Lisbon by the river",
        superseded_by=porto,
        pinned=pinned,
    )
    url = f"/api/v1/personas/{luna.pk}/memories/search/"
    found = auth_api_client.get(url, {"q": "Where do I live, by which river?"}).json()
    memories = [item["content"] for item in found if item["kind"] == "memory"]
    assert memories == ["Lives in Porto by the river"]

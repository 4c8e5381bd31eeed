"""How conversations and messages are cut into pages, for the API and the chat page alike."""

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from chat.models import ChatMessage


class MessageCursorPagination(pagination.CursorPagination):
    """Pages of messages, newest page first; each page reads oldest to newest.

    `next` fetches older messages (for scrolling up), `previous` newer ones.
    """

    ordering = ("-created_at", "-id")
    page_size = 30
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response(self, data: list) -> Response:
        return super().get_paginated_response(list(reversed(data)))

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        """DRF's, also refusing a position that is not a time (the first ordering field's):
        a hand-made one reached the query and came back as the database's date error."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                valid = parse_datetime(cursor.position) is not None
            except ValueError:  # well formed, out of range (month 13)
                valid = False
            if not valid:
                raise NotFound(self.invalid_cursor_message)
        return cursor

    def newest_page(
        self, queryset: QuerySet[ChatMessage], *, url: str
    ) -> tuple[list[ChatMessage], str | None]:
        """Return the newest page, oldest first, and `url` with the cursor of older ones.

        No request is needed: the first page has no cursor and its default size, so it is
        the page, and the cursor for `next`, that `url` itself would answer with.
        (`url` is None when there is nothing older.)
        """
        self.base_url = url
        self.cursor = None
        self.ordering = tuple(self.ordering)
        results = list(queryset.order_by(*self.ordering)[: self.page_size + 1])
        self.page = results[: self.page_size]
        self.has_previous = False
        self.has_next = len(results) > len(self.page)
        if self.has_next:
            self.next_position = self._get_position_from_instance(results[-1], self.ordering)
        return list(reversed(self.page)), self.get_next_link()


class ConversationPagination(pagination.PageNumberPagination):
    """Pages of 20 conversations, `?page=`."""

    page_size = 20

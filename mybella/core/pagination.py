from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Page through lists with `?page=` and an optional `?page_size=` (at most 100)."""

    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100

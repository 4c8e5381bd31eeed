"""Admin pieces every app's ModelAdmin shares."""

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from mybella.core import limits


class BoundedSearchAdmin(admin.ModelAdmin):
    """Cut an admin search to SEARCH_QUERY_MAX_CHARS, as the API and pages refuse longer ones.

    A very long word becomes a LIKE pattern SQLite refuses ("pattern too complex"), and on any
    database a search as long as a book scans every row for nothing.
    """

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Model], search_term: str
    ) -> tuple[QuerySet[Model], bool]:
        if len(search_term) > limits.SEARCH_QUERY_MAX_CHARS:
            search_term = search_term[: limits.SEARCH_QUERY_MAX_CHARS]
            messages.warning(
                request,
                _("Searches are cut to %d characters.") % limits.SEARCH_QUERY_MAX_CHARS,
            )
        return super().get_search_results(request, queryset, search_term)

"""The bare DRF view `make bench` measures the API against (only with `BENCH_BARE_VIEW`)."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

BARE_OBJECTS = [{"id": n, "name": f"object {n}", "active": n % 2 == 0} for n in range(1, 7)]


class BareView(APIView):
    """Return six small objects, with the API's own authentication and permissions."""

    def get(self, request: Request) -> Response:
        return Response(BARE_OBJECTS)

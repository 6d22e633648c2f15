"""A URLconf for tests/core/test_lanes.py: the project's, plus two probes under a lane prefix."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from sanlian.core.lanes import public_lane


def _probe(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "session": hasattr(request, "session"),
            "signed_in": request.user.is_authenticated,
            "messages": hasattr(request, "_messages"),
        }
    )


lane_probe = public_lane(_probe)

urlpatterns = [
    path("svc/s/probe/lane/", lane_probe),
    path("svc/s/probe/full/", _probe),
    path("", include("sanlian.config.urls")),
]


class AsyncOnly:
    """A middleware the lane cannot run (test_lanes)."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response: object) -> None:
        self.get_response = get_response

"""What a server process does once before it serves its first request."""

from __future__ import annotations


def warm_up() -> None:
    """Import and load what Django otherwise does on a worker's first request: the URLconf
    (with the API and its schemas, about a second of CPU) and the translation catalogues.
    A web worker calls this while it boots (it imports sanlian.config.wsgi), before it takes
    a connection, so no resident or cadre waits on a cold worker and a benchmark does not
    time the imports."""
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils.translation import trans_real

    get_resolver().url_patterns  # noqa: B018 (the property imports the URL modules)
    for code, _name in settings.LANGUAGES:
        trans_real.translation(code)
    warm_solvers()


def warm_solvers() -> None:
    """Import the optimisation solver the budget allocation runs in the request (HiGHS
    through scipy.optimize): 0.2-0.5 s of imports the first allocation of each worker would
    otherwise wait for, more than the Python work around a city-sized solve."""
    import scipy.optimize  # noqa: F401

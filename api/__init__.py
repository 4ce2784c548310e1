"""Vekst's HTTP API (FastAPI) and command line. Thin: the work happens in `experiments`."""

from api.runtime import collect_rarely_while_starting

collect_rarely_while_starting()

"""Vekst's HTTP API (FastAPI) and command line. Thin: the work happens in `experiments`."""

"""What a refusal by the Vekst server means, in words a shop developer can act on."""

from __future__ import annotations

_MEANING = {
    401: (
        "the server does not know this sdk key, or it was revoked; check the sdk_key given to "
        "Client, or create one with `vekst keys create --scope sdk`"
    ),
    403: "this key may not read the config or send events; give Client an sdk key",
}


def refusal(status: int) -> str:
    """'HTTP 401: the server does not know this sdk key, ...' or 'HTTP 500'."""
    meaning = _MEANING.get(status)
    return f"HTTP {status}: {meaning}" if meaning else f"HTTP {status}"

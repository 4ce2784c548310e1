"""What a refusal by the Vekst server, or a failure to reach it, means, in words a shop
developer can act on."""

from __future__ import annotations

import httpx

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


def unreachable(error: httpx.HTTPError, url: httpx.URL) -> str:
    """'http://127.0.0.1:8000/v1/sdk/config (ConnectError: [Errno 111] Connection refused)':
    the URL tried (without user, password or query), so a wrong api_url or port shows."""
    shown = url.copy_with(userinfo=b"", query=None)
    reason = str(error).strip()
    kind = type(error).__name__
    return f"{shown} ({kind}: {reason})" if reason else f"{shown} ({kind})"

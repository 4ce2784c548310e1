"""Alerts: webhooks subscribed to kinds of alert, the alerts a look raises, signed delivery.

Modules: `alerts` (what a look tells, pure), `store` (webhooks and queued deliveries in the
database), `targets` (which URLs and addresses may be sent to), `delivery` (signing, claims,
attempts, retries), `sender` (the pinned, bounded HTTP POST) and `workers` (the threads a server
process makes its attempts on).
"""

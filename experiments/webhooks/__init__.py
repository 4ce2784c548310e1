"""Webhooks: subscriptions to kinds of alert, and their signed delivery.

Modules: `store` (webhooks and queued deliveries in the database; `queue_look_alerts` takes a new
look's alerts, worked out by `results.alerts`), `targets` (which URLs and addresses may be sent
to), `delivery` (signing, claims, attempts, retries), `sender` (the pinned, bounded HTTP POST)
and `workers` (the threads a server process makes its attempts on).
"""

"""Alerts: webhooks subscribed to kinds of alert, the alerts a look raises, signed delivery.

Modules: `alerts` (what a look tells, pure), `store` (webhooks and queued deliveries in the
database), `delivery` (signing, sending, retries).
"""

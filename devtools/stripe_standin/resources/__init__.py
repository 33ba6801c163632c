"""Stripe's behaviour, one module per object family; each handler takes ``(api, call)`` (and
``object_id`` when the path has one) and is reached through ``server.ROUTES``."""

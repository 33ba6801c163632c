"""Transactional outbox for background work that must not be lost (see ``outbox.services``)."""

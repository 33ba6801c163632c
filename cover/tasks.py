"""Actors of the offer and policies. Thin: each calls a service, in its insurer's schema.

Each actor imports its service inside its body (the task ↔ service pair of STYLE.md): the
service modules import the actors at the top to enqueue them.
"""

from __future__ import annotations

import dramatiq

QUEUE = "cover"


@dramatiq.actor(queue_name=QUEUE, max_retries=5)
def doctor_invitations_send_task(user_ids: list[int]) -> None:
    """Invite imported doctors to claim their account (skips those who already did)."""
    from cover.services.signup import doctor_invitations_send  # lazy: task ↔ service

    doctor_invitations_send(user_ids=user_ids)

"""Writes for evidence: provisioning an insurer's seal, captures (see issue 4)."""

from __future__ import annotations


def evidence_provision(*, organisation: str) -> None:
    """Prepare a new insurer's schema for evidence work (its seal key comes with issue 4)."""

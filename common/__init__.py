"""Shared helpers at the bottom of the layers: they import Django, the standard library and
third-party packages, never one of the project's apps (nor ``saas``)."""

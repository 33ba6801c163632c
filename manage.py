#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings.dev")
    from saas.embedded import services_env_ensure, services_stop

    # Without DATABASE_URL / REDIS_URL: the embedded servers, started here only if no other
    # process (``./egide run``) has them running, and then stopped again on the way out.
    started = services_env_ensure()
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    finally:
        services_stop(started)


if __name__ == "__main__":
    main()

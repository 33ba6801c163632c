"""Local stand-ins for the outside services a capture asks (NTP, IP echo), for tests.

They speak the real protocols on loopback, so the capture's own code paths run unchanged while
no traffic leaves the machine. The test harness (``saas.pytest_services``) starts one of each
and points ``EGIDE_CAPTURE_NTP_SERVERS`` / ``EGIDE_CAPTURE_IP_ECHO_URLS`` at them.
"""

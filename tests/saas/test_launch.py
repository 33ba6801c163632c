"""``./egide run`` refuses to start half-way when one of its ports is taken."""

from __future__ import annotations

import socket

from saas.launch import ports_check


def test_a_taken_web_port_is_named_with_the_variable_that_moves_it():
    # given something already listening on a port
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        # when run would use it for the web server
        message = ports_check({"EGIDE_PORT": str(port), "EGIDE_STRIPE_PORT": "0"})
    # then
    assert message == (
        f"Le port {port} (serveur web) est déjà utilisé par un autre programme.\n"
        "Arrêtez ce programme, ou choisissez un autre port, par exemple :\n"
        f"  EGIDE_PORT={port + 1} ./egide run"
    )


def test_free_ports_pass_and_a_bad_value_is_explained():
    free = []
    names = ("EGIDE_PORT", "EGIDE_STRIPE_PORT", "EGIDE_TSA_PORT", "EGIDE_DEMO_REVIEWS_PORT")
    for _ in names:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            free.append(str(probe.getsockname()[1]))
    env = dict(zip(names, free, strict=True))
    assert ports_check(env) is None
    assert ports_check({**env, "EGIDE_TSA_PORT": "douze"}) == (
        "EGIDE_TSA_PORT=douze n'est pas un numéro de port valide (1 à 65535)."
    )

"""A real moto server on localhost for the session, and the network the collector's tests collect."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from tests.collect.moto_network import Built, Moto, build_network, free_port


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Moto]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield Moto(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def network(moto_server: Moto) -> Built:
    """Two peered VPCs: public, app and db subnets, IGW, NAT, SGs with references, a NACL deny, flow logs."""
    return build_network(moto_server)

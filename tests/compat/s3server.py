"""A real S3-compatible server for the tests: moto's standalone server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

HAVE_S3 = all(importlib.util.find_spec(m) for m in ("boto3", "moto"))
needs_s3 = pytest.mark.skipif(
    not HAVE_S3, reason="boto3 and moto are not installed (pip install -e '.[test]')"
)


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    def env(self) -> dict[str, str]:
        """What a process needs to reach the server, for Metaflow and flowtui alike."""
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "METAFLOW_S3_ENDPOINT_URL": self.endpoint,
            "METAFLOW_DATATOOLS_S3ROOT": f"s3://{self.bucket}/data",
        }


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).create_bucket(Bucket="flows")
        yield S3Server(endpoint, "flows")
    finally:
        server.stop()

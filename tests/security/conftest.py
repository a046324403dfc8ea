"""Attacks and faults against a real `botanu serve` on 127.0.0.1 (or the CLI): every test
here first failed against the code before the hardening."""

from __future__ import annotations

import urllib.error
import urllib.request

from tests.serve.conftest import Server, export, server_factory

__all__ = ["Server", "export", "request", "server_factory"]


def request(url, path, body=None, content_type="application/x-protobuf", timeout=60, **headers):
    """(status, body) of a request to the server; an HTTP error is an answer like any
    other. A body makes it a POST of `content_type`."""
    if body is not None:
        headers = {"Content-Type": content_type, **headers}
    sent = urllib.request.Request(f"{url}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(sent, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()

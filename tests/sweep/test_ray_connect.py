"""`--executor ray --address` on an address nobody listens on: one line at once, no Ray chatter."""

from __future__ import annotations

import os
import socket
import time

import pytest

from algolens.errors import ExternalToolError
from algolens.sweep.ray_connect import check_reachable, quiet_stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_closed_port_is_refused_at_once(capfd):
    port = _closed_port()
    t0 = time.monotonic()
    with pytest.raises(
        ExternalToolError, match=f"cannot reach the Ray cluster at '127.0.0.1:{port}'"
    ):
        check_reachable(f"127.0.0.1:{port}")
    assert time.monotonic() - t0 < 3
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("address", ["foo", "host:", ":6379", "host:99999", "x" * 5000])
def test_malformed_address_is_one_short_line(address):
    with pytest.raises(ExternalToolError, match="is not HOST:PORT") as info:
        check_reachable(address)
    assert len(str(info.value)) < 200


def test_quiet_stderr_silences_the_file_descriptor(capfd):
    with quiet_stderr():
        os.write(2, b"[W rpc_client.h:153] Failed to connect to GCS\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


def test_sweep_with_an_unreachable_address_prints_one_line(run_cli, tmp_path):
    pytest.importorskip("ray")
    sweep = tmp_path / "s.toml"
    sweep.write_text('[base]\ngroup = "C3"\nepochs = 1\nseeds = [0]\n[grid]\nlr = [0.001]\n')
    port = _closed_port()
    code, out, err = run_cli(
        "sweep", str(sweep), "--executor", "ray", "--address", f"127.0.0.1:{port}",
        "--store", str(tmp_path / "store"),
    )  # fmt: skip
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot reach the Ray cluster" in err
    assert not (tmp_path / "store" / "runs").exists() or not any(
        (tmp_path / "store" / "runs").iterdir()
    )

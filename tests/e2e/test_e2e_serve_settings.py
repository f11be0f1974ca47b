"""`openee serve` takes its settings from OPENEE_* when no option is passed (an option wins)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests
from auth_server import free_port, server_env


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(url, timeout=2)
            return True
        except requests.ConnectionError:
            time.sleep(0.2)
    return False


def test_openee_port_and_data_dir_from_the_environment(tmp_path: Path) -> None:
    port, data_dir = free_port(), tmp_path / "from-env"
    env = server_env({"OPENEE_PORT": str(port), "OPENEE_DATA_DIR": str(data_dir)})
    process = subprocess.Popen(
        [sys.executable, "-m", "openee", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/$discovery/rest?version=v1", process)
        assert (data_dir / "keys" / "default.json").is_file()
        assert not (tmp_path / "openee-data").exists()  # the built-in default was not used
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_malformed_setting_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "openee", "serve"],
        env=server_env({"OPENEE_PORT": "eighty", "OPENEE_DATA_DIR": str(tmp_path / "d")}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("openee serve: ")
    assert "OPENEE_PORT must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr

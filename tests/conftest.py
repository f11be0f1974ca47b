"""Suite-wide hooks: every registered algorithm must be exercised by at least one test.

At start the suite sets OPENEE_RECORD_ALGORITHMS to a fresh directory (`openee.graph.record`):
this process records the algorithms its in-process evaluations call, and every server process
the tests start inherits the variable and writes its own file there when it exits (the servers
stop on SIGTERM before the session ends). At the end of a run of the whole suite (no path
narrower than tests/, no -k or -m selection, nothing failed), the union of the recorded names is
compared with the registry and the run fails, listing the algorithms no test called.

OPENEE_COVERAGE_CHECK=1 forces the check on a narrower run, =0 turns it off.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from openee.graph import record

TESTS_DIR = Path(__file__).resolve().parent
_state: dict[str, object] = {"dir": None, "deselected": 0, "missing": None}


def pytest_configure(config: pytest.Config) -> None:
    if record.ENV_VAR in os.environ:  # an outer run already records: share it
        return
    directory = tempfile.mkdtemp(prefix="openee-algorithms-")
    _state["dir"] = directory
    os.environ[record.ENV_VAR] = directory


def pytest_deselected(items: list[pytest.Item]) -> None:
    _state["deselected"] = int(str(_state["deselected"])) + len(items)


def _whole_suite(session: pytest.Session) -> bool:
    forced = os.environ.get("OPENEE_COVERAGE_CHECK")
    if forced is not None:
        return forced == "1"
    config = session.config
    if config.option.keyword or config.option.markexpr or _state["deselected"]:
        return False
    if session.testsfailed or session.shouldstop or session.shouldfail:
        return False
    here = config.invocation_params.dir
    paths = [(here / str(a).split("::")[0]).resolve() for a in config.args]
    return all(p in (TESTS_DIR, TESTS_DIR.parent) for p in paths)


def recorded_names() -> set[str]:
    """Algorithms called in this process and by every server that recorded into the directory."""
    names = set(record.called())
    directory = os.environ.get(record.ENV_VAR)
    if directory and Path(directory).is_dir():
        for path in Path(directory).glob("algorithms-*.txt"):
            names |= set(path.read_text().split())
    return names


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    try:
        if not _whole_suite(session):
            return
        from openee.algorithms import default_registry

        missing = sorted(set(default_registry().names()) - recorded_names())
        _state["missing"] = missing
        if missing:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    finally:
        directory = _state["dir"]
        if isinstance(directory, str):
            shutil.rmtree(directory, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    missing = _state["missing"]
    if not isinstance(missing, list):
        return
    if not missing:
        terminalreporter.write_line("algorithm coverage: every registered algorithm was called")
        return
    terminalreporter.section("algorithm coverage", red=True)
    terminalreporter.write_line(
        f"{len(missing)} registered algorithms were not called by any test:", red=True
    )
    for name in missing:
        terminalreporter.write_line(f"  {name}")

"""Where a request's wall time goes, from the kernel's own counters (Linux; bench only).

Run by bench_worker.py (`cold --counters`, `floor --counters`). Around one timed call it reads:

- every thread's scheduler statistics (/proc/self/task/*/schedstat: nanoseconds on a CPU,
  nanoseconds runnable but waiting for a CPU, number of times it was put on a CPU) and name;
- the process's getrusage (voluntary / involuntary context switches, minor / major faults,
  blocks read);
- the machine's CPU time split (/proc/stat, in clock ticks of 10 ms: user, system, idle, iowait,
  steal = time the hypervisor ran something else while this VM wanted the CPU);
- the machine's transparent-huge-page and compaction events (/proc/vmstat): a fault in a region
  numpy marked MADV_HUGEPAGE (every array of 4 MiB or more) takes a 2 MiB page, and with the
  kernel's THP defrag setting `madvise` it compacts memory synchronously (compact_stall) when
  no free 2 MiB block is left.

Per thread, wall minus on-CPU minus run-queue wait is time the thread slept (a lock, a
condition, a result of another thread, I/O): the three kinds of wait the question "is the extra
wall time CPU, waiting for a CPU, or waiting on something" needs. A thread that starts and ends
inside the block (the floor's pool) is read by itself as its run() returns.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
RUSAGE_FIELDS = ("ru_nvcsw", "ru_nivcsw", "ru_minflt", "ru_majflt", "ru_inblock")
VMSTAT_PREFIXES = ("thp_fault", "compact_", "pgmigrate_")


Sched = tuple[str, int, int, int]  # name, ns on a CPU, ns waiting on a run queue, times on a CPU


def _read(task: Path) -> Sched | None:
    try:
        on_cpu, waiting, slices = (task / "schedstat").read_text().split()
        name = (task / "comm").read_text().strip()
    except (OSError, ValueError):  # the thread ended meanwhile
        return None
    return name, int(on_cpu), int(waiting), int(slices)


def _threads() -> dict[int, Sched]:
    out = {}
    for task in Path("/proc/self/task").iterdir():
        sched = _read(task)
        if sched is not None:
            out[int(task.name)] = sched
    return out


def _vmstat() -> dict[str, int]:
    out = {}
    with open("/proc/vmstat") as f:
        for line in f:
            name, value = line.split()
            if name.startswith(VMSTAT_PREFIXES):
                out[name] = int(value)
    return out


@contextmanager
def _ended_threads() -> Iterator[dict[int, Sched]]:
    """The last counters of each thread whose run() returns inside the block."""
    ended: dict[int, Sched] = {}
    run = threading.Thread.run

    def counted_run(self: threading.Thread) -> None:
        try:
            run(self)
        finally:
            sched = _read(Path("/proc/thread-self"))
            if sched is not None:
                ended[threading.get_native_id()] = sched

    threading.Thread.run = counted_run  # type: ignore[method-assign]
    try:
        yield ended
    finally:
        threading.Thread.run = run  # type: ignore[method-assign]


def _machine() -> list[int]:
    with open("/proc/stat") as f:
        return [int(v) for v in f.readline().split()[1 : 1 + len(STAT_FIELDS)]]


@contextmanager
def counted() -> Iterator[dict[str, Any]]:
    """The counters of the block's run; the dict is filled on exit."""
    out: dict[str, Any] = {}
    threads0, machine0, vm0 = _threads(), _machine(), _vmstat()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with _ended_threads() as ended:
        try:
            yield out
        finally:
            wall = time.perf_counter() - started
            usage1 = resource.getrusage(resource.RUSAGE_SELF)
            machine1, vm1, threads1 = _machine(), _vmstat(), {**ended, **_threads()}
    tick = 1.0 / os.sysconf("SC_CLK_TCK")
    rows = []
    for tid, (name, on_cpu, waiting, slices) in sorted(threads1.items()):
        _, on0, wait0, slices0 = threads0.get(tid, (name, 0, 0, 0))
        if slices == slices0:
            continue  # did not run during the block
        rows.append(
            {
                "thread": name,
                "on_cpu_s": (on_cpu - on0) / 1e9,
                "runqueue_wait_s": (waiting - wait0) / 1e9,
                "slices": slices - slices0,
                "new": tid not in threads0,
                "main": tid == os.getpid(),
            }
        )
    out["wall_s"] = wall
    out["threads"] = rows
    out["rusage"] = {f: getattr(usage1, f) - getattr(usage0, f) for f in RUSAGE_FIELDS}
    out["vmstat"] = {k: vm1[k] - v for k, v in vm0.items() if vm1.get(k, v) != v}
    out["machine_s"] = {
        f: (b - a) * tick for f, a, b in zip(STAT_FIELDS, machine0, machine1, strict=True)
    }


def summary(c: dict[str, Any]) -> str:
    """One line: wall, CPU, run-queue wait, slices, context switches, faults, machine split."""
    on_cpu = sum(t["on_cpu_s"] for t in c["threads"])
    wait = sum(t["runqueue_wait_s"] for t in c["threads"])
    slices = sum(t["slices"] for t in c["threads"])
    r, m = c["rusage"], c["machine_s"]
    # The requesting thread: what of its wall it ran, waited for a CPU, or slept (or, in a VM,
    # lost to the host: steal is counted neither as running nor as waiting).
    mains = [t for t in c["threads"] if t.get("main")]
    main = ""
    if mains:
        t = mains[0]
        rest = c["wall_s"] - t["on_cpu_s"] - t["runqueue_wait_s"]
        main = f"; main thread ran {t['on_cpu_s']:.3f} rq {t['runqueue_wait_s']:.3f} off {rest:.3f}"
    return (
        f"wall {c['wall_s']:.3f} on-cpu {on_cpu:.3f} rq-wait {wait:.3f} slices {slices} "
        f"threads {len(c['threads'])} vcsw {r['ru_nvcsw']} ivcsw {r['ru_nivcsw']} "
        f"minflt {r['ru_minflt']} majflt {r['ru_majflt']}{main}; machine: "
        + " ".join(f"{k} {v:.2f}" for k, v in m.items() if v)
        + "; "
        + " ".join(f"{k} {v}" for k, v in c.get("vmstat", {}).items())
    )

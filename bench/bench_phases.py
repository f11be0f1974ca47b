"""Per-phase timing of openee's computePixels path, by wrapping its functions in this process
(bench only: nothing in src/ changes). Run by bench_worker.py `phases`.

Each wrapped function is a phase. A phase's time is its own (exclusive) time: what its nested
phases took is subtracted, per thread, so the phases of one thread add up to that thread's time
inside them. Each phase gets wall time and CPU time (time.thread_time) summed over all threads:
wall minus CPU is time spent waiting (a lock, another thread's result, the kernel's I/O); with 2
chunk threads and 2 read threads the wall sums can exceed the request's wall time. It also gets
the minor page faults of its own time (getrusage RUSAGE_THREAD, Linux): fresh memory, which the
kernel maps and zeroes page by page, is what made a cold request dearer than a warm one
(docs/decisions/0048, 0060).
"""

from __future__ import annotations

import functools
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# (phase, module, attribute): the attribute is replaced where the callers look it up.
PHASES: list[tuple[str, str, str]] = [
    ("evaluate the graph (plan)", "openee.graph.evaluate", "evaluate"),
    ("check the request, resolve the grid", "openee.services.pixels", "_checked"),
    ("allocate the NPY response", "openee.services.pixels", "_npy_file"),
    ("open files, choose overview", "openee.raster.read", "_locate"),
    ("sample maps (incl. waits on another thread's map)", "openee.raster.read", "sample_map"),
    ("read + decode (DatasetReader.read)", "rasterio.io", "DatasetReader.read"),
    ("gather samples (sampled_box)", "openee.raster.sampling", "sampled_box"),
    ("gather a composite's window (gathered)", "openee.raster.sources", "gathered"),
    ("read_window other", "openee.raster.sources", "read_window"),
    ("reduce (median)", "openee.raster.sources", "reduce_stack"),
    (
        "chunk other (recipes, waits on read threads)",
        "openee.engine.chunks",
        "compute_chunk_boxed",
    ),
    ("NPY zero masked pixels (the copy path only)", "openee.encode.npy", "NpyFile.zero_masked"),
    ("assemble chunks (main thread, incl. waits)", "openee.services.pixels", "materialize"),
    ("compute_pixels other (encode)", "openee.services.pixels", "compute_pixels"),
]


def _thread_faults() -> int:
    """Minor page faults of the calling thread so far (Linux: RUSAGE_THREAD)."""
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt


@dataclass
class _Totals:
    calls: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    faults: int = 0


class PhaseTimer:
    def __init__(self) -> None:
        self.totals: dict[str, _Totals] = {name: _Totals() for name, _, _ in PHASES}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._undo: list[Callable[[], None]] = []
        self.enabled = False

    def _stack(self) -> list[list[float]]:
        stack: list[list[float]] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.enabled:
                return fn(*args, **kwargs)
            stack = self._stack()
            child = [0.0, 0.0, 0]  # wall, cpu, minor faults of nested phases
            stack.append(child)
            w0, c0, f0 = time.perf_counter(), time.thread_time(), _thread_faults()
            try:
                return fn(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
                faults = _thread_faults() - f0
                stack.pop()
                if stack:
                    stack[-1][0] += wall
                    stack[-1][1] += cpu
                    stack[-1][2] += faults
                with self._lock:
                    t = self.totals[name]
                    t.calls += 1
                    t.wall += wall - child[0]
                    t.cpu += cpu - child[1]
                    t.faults += int(faults - child[2])

        return timed

    def install(self) -> None:
        import importlib

        for name, module_name, attr in PHASES:
            module = importlib.import_module(module_name)
            owner: Any = module
            *path, leaf = attr.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, leaf)
            setattr(owner, leaf, self.wrap(name, original))
            self._undo.append(functools.partial(setattr, owner, leaf, original))

    @contextmanager
    def measure(self) -> Iterator[dict[str, Any]]:
        """Phases of the calls made inside the block; the dict is filled on exit."""
        for t in self.totals.values():
            t.calls, t.wall, t.cpu, t.faults = 0, 0.0, 0.0, 0
        out: dict[str, Any] = {}
        self.enabled = True
        cpu0, w0 = time.process_time(), time.perf_counter()
        faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        try:
            yield out
        finally:
            self.enabled = False
            out["seconds"] = time.perf_counter() - w0
            out["cpu_seconds"] = time.process_time() - cpu0
            out["minor_faults"] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0
            out["phases"] = [
                {
                    "phase": name,
                    "calls": t.calls,
                    "wall_s": t.wall,
                    "cpu_s": t.cpu,
                    "minor_faults": t.faults,
                }
                for name, t in self.totals.items()
            ]

"""How long the kernel takes to give this process fresh memory, after idle gaps (Linux; bench only).

Allocates a 96 MiB numpy buffer (the size of a 2048x2048x3 float64 NPY response), writes one
byte per 4 KiB page, frees it, and again after each gap. On a VM whose kernel reports free
memory to the hypervisor (virtio-balloon free page reporting: "Free page reporting enabled" in
dmesg), memory freed more than ~2 s ago may have been taken back by the host, and touching it
again waits for the host to supply it: the same writes then take many times longer, counted as
the process's system time. bench/RESULTS.md (2026-12-05 10:20) has the figures.

  .venv/bin/python bench/first_touch.py [MiB] [gap,gap,...]
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np


def touch(mib: int) -> tuple[float, float, int]:
    """(wall s, system CPU s, minor faults) of faulting in `mib` MiB of a fresh buffer."""
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    block = np.zeros(mib << 20, dtype=np.uint8)
    block[::4096] = 1
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    del block
    return wall, r1.ru_stime - r0.ru_stime, r1.ru_minflt - r0.ru_minflt


def main() -> int:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 96
    gaps = sys.argv[2] if len(sys.argv) > 2 else "0,0,0,0.5,0,1,0,2,0,3,0,5,0,8,0,0"
    for gap in (float(g) for g in gaps.split(",")):
        time.sleep(gap)
        wall, system, faults = touch(mib)
        print(
            f"gap {gap:4.1f} s: {mib} MiB wall {wall * 1000:6.1f} ms, "
            f"system {system * 1000:6.1f} ms, {faults} faults",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

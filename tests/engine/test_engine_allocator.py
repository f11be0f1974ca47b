"""The allocator setting of `openee serve` (engine/allocator.py): freed blocks of a few tens of
MiB are reused instead of being mapped, faulted in and zeroed again for every chunk."""

from __future__ import annotations

import json
import subprocess
import sys

# Allocates and frees a 40 MiB array 30 times (more than glibc's largest automatic mmap
# threshold, 32 MiB), counting the page faults of the loop. numpy asks the kernel for huge pages
# on large arrays (madvise); whether it gets them depends on the machine's memory at that moment
# (2 MiB faults then, 4 KiB ones otherwise), so the count is taken in 4 KiB pages only.
LOOP = """
import json, resource, sys
import numpy as np
np._core.multiarray._set_madvise_hugepage(False)
from openee.engine.allocator import tune_allocator
tuned = tune_allocator() if sys.argv[1] == "tuned" else None
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(30):
    block = np.ones(40 * 2**20, dtype=np.uint8)
    del block
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"tuned": tuned, "faults": faults}))
"""


def faults(mode: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", LOOP, mode], capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, object] = json.loads(out)
    return result


def test_freed_blocks_are_reused_not_faulted_in_again() -> None:
    default, tuned = faults("default"), faults("tuned")
    assert tuned["tuned"] is True
    assert isinstance(default["faults"], int) and isinstance(tuned["faults"], int)
    # Untuned, every round maps fresh pages; tuned, only the first one does.
    assert tuned["faults"] * 5 < default["faults"]

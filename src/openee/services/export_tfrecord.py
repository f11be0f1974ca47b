"""TFRecord image exports (`fileFormat: 'TFRecord'`), as Earth Engine writes them
(docs/decisions/0045, Earth Engine's guide "TFRecord and Earth Engine").

The export grid is tiled by patches of `patchDimensions`, row-major from its top-left corner;
patches that would cross the right or bottom edge are dropped, as the guide states. Each patch is
written with margins of `kernelSize // 2` pixels on every side (the pixels the image has there),
so that neighbouring patches overlap; each becomes one `tf.train.Example` holding a float list
per band (channels, rows, columns), masked pixels holding `defaultValue`. Files are
`<prefix>-00000.tfrecord[.gz]`, a new one started before a file would pass `maxFileSize`
(uncompressed), with the JSON "mixer" `<prefix>-mixer.json` that places the patches.

Execution follows the GeoTIFF exports (`export_image.py`): a block (one patch row, several
patches wide, with their margins) is one chunk task on the executor (threads or Dask), a pure
function of (band sources, block) that returns the block's encoded records; each block is kept
in the staging folder and listed in the ledger, so a restarted export only computes the missing
blocks; the files are assembled, in patch order, when every block is there.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from openee.encode.tfrecord import (
    BandTensor,
    TfRecordOptions,
    frame,
    patch_example,
    record_lengths,
)
from openee.engine.chunks import compute_chunk
from openee.engine.executors import ChunkExecutor, ChunkFuture
from openee.errors import InvalidArgumentError
from openee.raster.arrays import check_arrays
from openee.raster.grid import PixelGrid
from openee.raster.image import Image
from openee.raster.sources import BandSource
from openee.services.export_image import (
    ImageOptions,
    Ledger,
    Progress,
    Report,
    check_max_pixels,
    export_grid,
    grid_info,
)

MIXER_SUFFIX = "-mixer.json"
_GZIP_LEVEL = 1  # ~10x faster than zlib's default 6 on imagery, files ~15% larger (one thread)


@dataclass(frozen=True)
class BlockSpec:
    """How a block's pixels become records (sent with each chunk task)."""

    names: tuple[str, ...]
    integer: tuple[bool, ...]  # integer bands get the integer part of defaultValue
    depths: tuple[int, ...]  # 0 for a scalar band, else the array band's tensorDepth
    patch: tuple[int, int]
    margin: tuple[int, int]
    default_value: float
    collapse: bool
    max_masked_ratio: float | None


@dataclass(frozen=True)
class Block:
    index: int
    row: int  # patch row
    col: int  # first patch column
    count: int  # patches in the block


@dataclass(frozen=True)
class PatchLayout:
    grid: PixelGrid
    rows: int
    cols: int
    blocks: tuple[Block, ...]

    def block_grid(self, block: Block, opts: TfRecordOptions) -> PixelGrid:
        (pw, ph), (mx, my) = opts.patch, opts.margin
        return self.grid.subgrid(
            block.row * ph - my, block.col * pw - mx, ph + 2 * my, block.count * pw + 2 * mx
        )


def patch_layout(grid: PixelGrid, opts: TfRecordOptions, chunk_size: int) -> PatchLayout:
    """The patches of the export grid, cut into blocks of about `chunk_size` pixels wide."""
    pw, ph = opts.patch
    cols, rows = grid.width // pw, grid.height // ph
    if not rows or not cols:
        raise InvalidArgumentError(
            f"The export region ({grid.width}x{grid.height} pixels) is smaller than one patch "
            f"({pw}x{ph}): no patch can be written."
        )
    per_block = max(1, chunk_size // pw)
    blocks: list[Block] = []
    for row in range(rows):
        for col in range(0, cols, per_block):
            blocks.append(Block(len(blocks), row, col, min(per_block, cols - col)))
    return PatchLayout(grid, rows, cols, tuple(blocks))


def block_spec(image: Image, opts: TfRecordOptions) -> BlockSpec:
    """Checks the bands against the options: array bands need a tensorDepth."""
    depths = []
    for band in image.bands:
        rank = band.source.rank
        if rank > 1:
            raise InvalidArgumentError(
                f"Band '{band.name}' holds {rank}-D arrays: TFRecord exports take scalar bands "
                "and 1-D array bands (with tensorDepths)."
            )
        if rank == 1 and band.name not in opts.tensor_depths:
            raise InvalidArgumentError(
                f"Array band '{band.name}' needs an entry in tensorDepths (the depth of its "
                "tensor)."
            )
        depths.append(opts.tensor_depths[band.name] if rank else 0)
    return BlockSpec(
        names=tuple(image.band_names),
        integer=tuple(
            bool(np.issubdtype(b.source.dtype, np.integer) or b.source.dtype == np.bool_)
            for b in image.bands
        ),
        depths=tuple(depths),
        patch=opts.patch,
        margin=opts.margin,
        default_value=opts.default_value,
        collapse=opts.collapse_bands,
        max_masked_ratio=opts.max_masked_ratio,
    )


def tfrecord_block(
    sources: tuple[BandSource, ...], grid: PixelGrid, spec: BlockSpec, count: int
) -> tuple[bytes, int, float]:
    """The chunk task: a block's framed records (patches over the masked-ratio limit left out),
    how many, and the CPU seconds spent."""
    start = time.thread_time()
    pixels = compute_chunk(sources, grid)
    valid = np.logical_and.reduce([p.valid for p in pixels])  # a pixel masked in any band
    tensors = []
    for band, integer, depth in zip(pixels, spec.integer, spec.depths, strict=True):
        fill = float(int(spec.default_value)) if integer else spec.default_value
        if depth:
            values = np.full((*grid.shape, depth), fill)
            k = min(depth, band.data.shape[-1])
            values[..., :k] = band.data[..., :k]
            beyond = np.arange(depth) >= band.extents()[..., :1]  # past each pixel's array
            values[beyond] = fill
            values[~valid] = fill
            tensors.append(np.moveaxis(values, -1, 0))
        else:
            tensors.append(np.where(valid, band.data, fill)[np.newaxis])
    (pw, ph), (mx, my) = spec.patch, spec.margin
    records = []
    for j in range(count):
        if spec.max_masked_ratio is not None:
            core = valid[my : my + ph, j * pw + mx : (j + 1) * pw + mx]
            if 1.0 - core.mean() > spec.max_masked_ratio:
                continue
        window = slice(j * pw, (j + 1) * pw + 2 * mx)
        tile = [BandTensor(n, t[:, :, window]) for n, t in zip(spec.names, tensors, strict=True)]
        records.append(frame(patch_example(tile, spec.collapse)))
    return b"".join(records), len(records), time.thread_time() - start


def _plan(image: Image, opts: ImageOptions, chunk_size: int) -> tuple[PatchLayout, BlockSpec]:
    assert opts.tfrecord is not None
    if not image.bands:
        raise InvalidArgumentError("The image has no bands to export.")
    check_arrays([b.source for b in image.bands])
    spec = block_spec(image, opts.tfrecord)
    grid = export_grid(image)
    check_max_pixels(grid, opts.max_pixels)
    return patch_layout(grid, opts.tfrecord, chunk_size), spec


def write_tfrecord_files(
    image: Image,
    opts: ImageOptions,
    staging: Path,
    executor: ChunkExecutor,
    chunk_size: int,
    check: Callable[[], None],
    report: Report,
    max_in_flight: int = 4,
) -> list[tuple[Path, str]]:
    """Computes every block into `staging`, then assembles the TFRecord files and the mixer;
    returns (staged path, suffix) of the files to publish. `check` raises to stop (a cancel)."""
    layout, spec = _plan(image, opts, chunk_size)
    tf = opts.tfrecord
    assert tf is not None
    sources = tuple(b.source for b in image.bands)
    staging.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(
        staging,
        {
            "grid": grid_info(layout.grid),
            "format": "TF_RECORD_IMAGE",
            "spec": [spec.names, spec.depths, spec.patch, spec.margin, spec.max_masked_ratio],
            "blocks": len(layout.blocks),
        },
    )

    def segment(index: int) -> Path:
        return staging / f"part-{index:06d}.tfr"

    # A block is done if the ledger lists it and its records are still there (assembly removes
    # them as it goes: a restart during assembly computes those blocks again).
    done = {i for i in ledger.done if segment(i).exists()}
    progress = Progress(len(done), len(layout.blocks), resumed=len(done))
    report(progress)
    pending: deque[tuple[ChunkFuture, Block]] = deque()

    def drain() -> None:
        future, block = pending.popleft()
        records, kept, cpu = future.result()
        partial = segment(block.index).with_suffix(".partial")
        partial.write_bytes(records)
        os.replace(partial, segment(block.index))
        ledger.record(block.index, kept > 0)
        progress.done += 1
        progress.cpu_seconds += cpu
        report(progress)
        check()

    try:
        for block in layout.blocks:
            if block.index in done:
                continue
            if len(pending) >= max_in_flight:
                drain()
            grid = layout.block_grid(block, tf)
            pending.append(
                (executor.submit(tfrecord_block, sources, grid, spec, block.count), block)
            )
        while pending:
            drain()
    finally:
        for future, _ in pending:
            future.cancel()
    files = _assemble(staging, [segment(b.index) for b in layout.blocks], tf, check)
    if tf.max_masked_ratio in (None, 1.0):
        mixer = staging / "mixer.json"
        mixer.write_text(json.dumps(mixer_of(layout, tf), indent=2))
        files.append((mixer, MIXER_SUFFIX))
    return files


def _assemble(
    staging: Path, segments: Sequence[Path], tf: TfRecordOptions, check: Callable[[], None]
) -> list[tuple[Path, str]]:
    """The records of every block, in patch order, cut into files of at most `maxFileSize`
    bytes (uncompressed; a single larger record gets a file of its own)."""
    files: list[tuple[Path, str]] = []
    out: BinaryIO | gzip.GzipFile | None = None
    size = 0

    def start_file() -> BinaryIO | gzip.GzipFile:
        suffix = f"-{len(files):05d}{tf.extension}"
        path = staging / f"out{suffix}"
        files.append((path, suffix))
        if tf.compress:
            # No name and a zero time in the gzip header: the same records, the same bytes.
            return gzip.GzipFile(path, "wb", compresslevel=_GZIP_LEVEL, mtime=0)
        return open(path, "wb")

    try:
        for path in segments:
            data = memoryview(path.read_bytes())
            offset = 0
            for length in record_lengths(data):
                if out is None or (size and size + length > tf.max_file_bytes):
                    if out is not None:
                        out.close()
                    out, size = start_file(), 0
                out.write(data[offset : offset + length])
                size += length
                offset += length
            path.unlink()
            check()
    finally:
        if out is not None:
            out.close()
    return files


def mixer_of(layout: PatchLayout, tf: TfRecordOptions) -> dict[str, Any]:
    """The JSON sidecar Earth Engine writes with TFRecord images: the grid's projection (its
    top-left patch corner, without margins), the patch size, patches per row and in all."""
    t = layout.grid.transform
    return {
        "projection": {
            "crs": layout.grid.crs,
            "affine": {"doubleMatrix": [t.a, t.b, t.c, t.d, t.e, t.f]},
        },
        "patchDimensions": list(tf.patch),
        "patchesPerRow": layout.cols,
        "totalPatches": layout.rows * layout.cols,
    }


def estimate_tfrecord(image: Image, opts: ImageOptions, chunk_size: int) -> dict[str, Any]:
    """The size of a TFRecord export before it runs: grid, patches, files, bytes, chunks."""
    layout, spec = _plan(image, opts, chunk_size)
    tf = opts.tfrecord
    assert tf is not None
    tw, th = tf.tile()
    zero = [
        BandTensor(n, np.zeros((max(d, 1), th, tw)))
        for n, d in zip(spec.names, spec.depths, strict=True)
    ]
    record = len(frame(patch_example(zero, spec.collapse)))
    patches = layout.rows * layout.cols
    per_file = max(1, tf.max_file_bytes // record)
    return {
        "grid": grid_info(layout.grid),
        "files": -(-patches // per_file),
        "patches": patches,
        "pixels": layout.grid.width * layout.grid.height,
        "bands": len(spec.names),
        "uncompressedBytes": patches * record,
        "chunks": len(layout.blocks),
    }

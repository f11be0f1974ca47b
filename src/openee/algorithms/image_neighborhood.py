"""Image algorithms over small neighbourhoods of each pixel: derivative, gradient, Canny edges,
zeroCrossing, neighborhoodToBands and entropy (recipes in `openee.raster.local`), and the seed
grid of segmentation. Computed on the requested grid (ADR 0007).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.edges import CannyBand
from openee.raster.grid import PixelGrid
from openee.raster.halo import global_index
from openee.raster.image import Band, Image
from openee.raster.local import DifferenceBand, EntropyBand, OffsetBand, ZeroCrossingBand
from openee.raster.pixels import Pixels
from openee.raster.sources import BandSource
from openee.raster.texture import METRICS, GlcmBand
from openee.values.kernel import Kernel


def _first(image: Image, what: str) -> Band:
    if not image.bands:
        raise InvalidArgumentError(f"{what}: the image has no bands.")
    return image.bands[0]


@algorithm("Image.derivative")
def derivative(image: Image) -> Image:
    """Computes the X and Y discrete derivatives for each band in the input image, in pixel
    coordinates: for each band two bands with the suffixes '_x' and '_y'. Central differences
    (half the difference of the two neighbours); y grows down the rows; masked where a
    neighbour is masked.

    Args:
        image: The input image.
    """
    bands = []
    for b in image.bands:
        for axis in ("x", "y"):
            bands.append(replace(b, name=f"{b.name}_{axis}", source=DifferenceBand(b.source, axis)))
    return replace(image, bands=tuple(bands))


@algorithm("Image.gradient")
def gradient(input: Image) -> Image:
    """Calculates the x and y gradient of the first band, per metre: bands 'x' (eastwards)
    and 'y' (northwards), central differences divided by the grid's pixel size in metres.

    Args:
        input: The input image.
    """
    b = _first(input, "gradient")
    return replace(
        input,
        bands=tuple(
            replace(b, name=axis, source=DifferenceBand(b.source, axis, per_metre=True))
            for axis in ("x", "y")
        ),
    )


@algorithm("CannyEdgeDetector")
def canny_edge_detector(image: Image, threshold: float, sigma: float = 1.0) -> Image:
    """Applies the Canny edge detection algorithm to an image. The output is an image whose
    bands have the same names as the input bands, and in which non-zero values indicate
    edges, and the magnitude of the value is the gradient magnitude (Sobel, per pixel).

    Args:
        image: The image on which to apply edge detection.
        threshold: Threshold value. The pixel is only considered for edge detection if the
            gradient magnitude is higher than this threshold.
        sigma: Sigma value for a gaussian filter applied before edge detection. 0 means apply
            no filtering.
    """
    if not 0 <= sigma <= 100:
        raise InvalidArgumentError("CannyEdgeDetector: sigma must be between 0 and 100.")
    return image.map_bands(lambda b: replace(b, source=CannyBand(b.source, threshold, sigma)))


@algorithm("Image.zeroCrossing")
def zero_crossing(image: Image) -> Image:
    """Finds zero-crossings on each band of an image: 1 where the pixel and its right or lower
    neighbour have opposite signs, else 0.

    Args:
        image: The image from which to compute zero crossings.
    """
    return image.map_bands(lambda b: replace(b, source=ZeroCrossingBand(b.source)))


@algorithm("Image.neighborhoodToBands")
def neighborhood_to_bands(image: Image, kernel: Kernel) -> Image:
    """Turns the neighbourhood of a pixel into a set of bands: one per non-zero kernel cell and
    input band, named '<band>_<x>_<y>' with x and y the cell's offset from the kernel's focus
    (y down the rows), cells in row-major order.

    Args:
        image: The image to get pixels from.
        kernel: The kernel specifying the neighborhood. Zero-weight values are ignored.
    """
    if kernel.metric:
        raise InvalidArgumentError("neighborhoodToBands needs a kernel in pixels.")
    m = kernel.matrix()
    cells = [(int(c) - m.x, int(r) - m.y) for r, c in zip(*np.nonzero(m.array()), strict=True)]
    bands = [
        replace(b, name=f"{b.name}_{dx}_{dy}", source=OffsetBand(b.source, dx, dy))
        for b in image.bands
        for dx, dy in cells
    ]
    return replace(image, bands=tuple(bands))


@algorithm("Image.entropy")
def entropy(image: Image, kernel: Kernel) -> Image:
    """Computes the windowed entropy for each band using the specified kernel centered on each
    input pixel: -sum(p * log2(p)) over the distinct values of the window's unmasked pixels,
    p being each value's share.

    Args:
        image: The image for which to compute the entropy.
        kernel: A kernel specifying the window in which to compute.
    """
    return image.map_bands(lambda b: replace(b, source=EntropyBand(b.source, kernel)))


@dataclass(frozen=True)
class SeedGridBand(BandSource):
    """1 on the seed pixels of a regular grid in the request grid's pixel space, else 0: every
    `size`-th column of every `size`-th row counted from the CRS origin ('hex': odd seed rows
    shifted by half the spacing)."""

    size: int
    hexagonal: bool

    dtype = np.dtype(np.uint8)

    def read(self, grid: PixelGrid) -> Pixels:
        rows, cols = global_index(grid)
        on_row = rows % self.size == 0
        shift = np.where((rows // self.size) % 2 == 1, self.size // 2, 0) if self.hexagonal else 0
        seeds = on_row & ((cols - shift) % self.size == 0)
        return Pixels(seeds.astype(np.uint8), np.ones(grid.shape, dtype=bool))


@algorithm("Image.Segmentation.seedGrid")
def seed_grid(size: int = 5, gridType: str = "square") -> Image:
    """Selects seed pixels for clustering: a band 'seeds', 1 at the seeds and 0 elsewhere.

    Args:
        size: The spacing of the seeds, in pixels.
        gridType: 'square' or 'hex'.
    """
    if size < 1:
        raise InvalidArgumentError("seedGrid: size must be at least 1.")
    if gridType not in ("square", "hex"):
        raise InvalidArgumentError(f"Unknown gridType '{gridType}': use 'square' or 'hex'.")
    return Image((Band("seeds", SeedGridBand(size, gridType == "hex")),))


def glcm_directions(kernel: Kernel | None) -> tuple[tuple[int, int], ...]:
    """The (dx, dy) offsets of the GLCMs: the kernel's non-zero cells but the focus, scanned
    left to right and top to bottom, a direction and its opposite counted once."""
    k = kernel or Kernel("square", radius=1)
    if k.metric:
        raise InvalidArgumentError("glcmTexture needs a kernel in pixels.")
    m = k.matrix()
    out: list[tuple[int, int]] = []
    for r, c in zip(*np.nonzero(m.array()), strict=True):
        dx, dy = int(c) - m.x, int(r) - m.y
        if (dx, dy) != (0, 0) and (dx, dy) not in out and (-dx, -dy) not in out:
            out.append((dx, dy))
    if not out:
        raise InvalidArgumentError("glcmTexture: the kernel has no offsets besides its focus.")
    return tuple(out)


@algorithm("Image.glcmTexture")
def glcm_texture(
    image: Image, size: int = 1, kernel: Kernel | None = None, average: bool = True
) -> Image:
    """Computes texture metrics from the Gray Level Co-occurrence Matrix around each pixel of
    every band: 18 bands per input band named '<band>_<metric>' (asm, contrast, corr, var, idm,
    savg, svar, sent, ent, dvar, dent, imcorr1, imcorr2, maxcorr (0: not computed), diss,
    inertia, shade, prom), averaged over the directions; or, without averaging, 18 per
    direction named '<band>_<metric>_<dx>_<dy>'. Inputs must be integer valued.

    Args:
        image: The image for which to compute texture metrics.
        size: The size of the neighborhood to include in each GLCM (its radius in pixels).
        kernel: A kernel specifying the x and y offsets over which to compute the GLCMs
            (default: 3x3 square: offsets (-1, -1), (0, -1), (1, -1) and (-1, 0)).
        average: If true, the directional bands for each metric are averaged.
    """
    if not 0 <= size <= 16:
        raise InvalidArgumentError("glcmTexture: size must be between 0 and 16.")
    directions = glcm_directions(kernel)
    bands = []
    for b in image.bands:
        if average:
            bands += [
                replace(b, name=f"{b.name}_{m}", source=GlcmBand(b.source, directions, size, m))
                for m in METRICS
            ]
            continue
        for d, (dx, dy) in enumerate(directions):
            bands += [
                replace(
                    b,
                    name=f"{b.name}_{m}_{dx}_{dy}",
                    source=GlcmBand(b.source, directions, size, m, d),
                )
                for m in METRICS
            ]
    return replace(image, bands=tuple(bands))

"""Image segmentation: SNIC superpixels and k-means clusters of pixels (ADR 0032). The
segmentation seed grid lives with the other local operations (`image_neighborhood`)."""

from __future__ import annotations

from openee.algorithms.image_neighborhood import SeedGridBand
from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.raster.halo import MAX_HALO
from openee.raster.image import Band, Image
from openee.raster.kmeans_cells import DEFAULT_CELL, KMeansBand
from openee.raster.superpixels import SnicBand


@algorithm("Image.Segmentation.SNIC")
def snic(
    image: Image,
    size: int = 5,
    compactness: float = 1.0,
    connectivity: int = 8,
    neighborhoodSize: int | None = None,
    seeds: Image | None = None,
) -> Image:
    """Superpixel clustering based on SNIC (Simple Non-Iterative Clustering; Achanta and
    Susstrunk, CVPR 2017). Outputs a band 'clusters' of cluster ids and the per-cluster means
    of each input band ('<band>_mean'); without a 'seeds' image the output also holds a band
    'seeds' with the generated seed locations. Pixels masked in any input band are masked.

    Args:
        image: The input image for clustering.
        size: The superpixel seed location spacing, in pixels. If 'seeds' image is provided,
            no grid is produced.
        compactness: Compactness factor. Larger values cause clusters to be more compact
            (square). Setting this to 0 disables spatial distance weighting.
        connectivity: Connectivity. Either 4 or 8.
        neighborhoodSize: Tile neighborhood size (to avoid tile boundary artifacts). Defaults
            to 2 * size.
        seeds: If provided, any non-zero valued pixels are used as seed locations. Pixels that
            touch (as specified by 'connectivity') are considered to belong to the same
            cluster.
    """
    if connectivity not in (4, 8):
        raise InvalidArgumentError("SNIC: connectivity must be 4 or 8.")
    if size < 1:
        raise InvalidArgumentError("SNIC: size must be at least 1.")
    if compactness < 0:
        raise InvalidArgumentError("SNIC: compactness must not be negative.")
    if not image.bands:
        raise InvalidArgumentError("SNIC: the image has no bands.")
    halo = 2 * size if neighborhoodSize is None else neighborhoodSize
    if not 0 <= halo <= MAX_HALO:
        raise InvalidArgumentError(f"SNIC: neighborhoodSize must be between 0 and {MAX_HALO}.")
    grid_seeds = SeedGridBand(size, False)
    if seeds is not None and not seeds.bands:
        raise InvalidArgumentError("SNIC: the seeds image has no bands.")
    seed_source = seeds.bands[0].source if seeds is not None else grid_seeds
    inputs = tuple(b.source for b in image.bands)

    def output(i: int) -> SnicBand:
        return SnicBand(inputs, seed_source, i, size, compactness, connectivity == 8, halo)

    first = image.bands[0]
    bands = [Band("clusters", output(-1), first.projection, first.dimensions)]
    bands += [
        Band(f"{b.name}_mean", output(i), b.projection, b.dimensions)
        for i, b in enumerate(image.bands)
    ]
    if seeds is None:
        bands.append(Band("seeds", grid_seeds))
    return Image(tuple(bands))


def _cells(what: str, neighborhoodSize: int, gridSize: int | None, image: Image) -> tuple[int, int]:
    """(cell side, overlap) of a k-means-like segmentation, checked as Earth Engine documents."""
    if not image.bands:
        raise InvalidArgumentError(f"{what}: the image has no bands.")
    if gridSize is not None and gridSize > 0 and neighborhoodSize > 0:
        raise InvalidArgumentError(f"{what}: gridSize and neighborhoodSize are exclusive.")
    if not 0 <= neighborhoodSize <= MAX_HALO:
        raise InvalidArgumentError(f"{what}: neighborhoodSize must be between 0 and {MAX_HALO}.")
    cell = gridSize if gridSize is not None and gridSize > 0 else DEFAULT_CELL
    if cell > 4096:
        raise InvalidArgumentError(f"{what}: gridSize must be at most 4096.")
    return cell, neighborhoodSize


@algorithm("Image.Segmentation.KMeans")
def kmeans(
    image: Image,
    numClusters: int = 8,
    numIterations: int = 20,
    neighborhoodSize: int = 0,
    gridSize: int | None = None,
    forceConvergence: bool = False,
    uniqueLabels: bool = True,
) -> Image:
    """Performs K-Means clustering on the input image. Outputs a 1-band image 'clusters'
    containing the ID of the cluster that each pixel belongs to. Works on a fixed grid of
    non-overlapping cells (gridSize; 256-pixel tiles when not given), each cell optionally
    extended by neighborhoodSize pixels of overlap; clusters in one cell are unrelated to
    clusters in another. Input pixels masked in any band are masked in the output.

    Args:
        image: The input image for clustering.
        numClusters: Number of clusters.
        numIterations: Number of iterations.
        neighborhoodSize: Neighborhood size. The amount to extend each tile (overlap) when
            computing the clusters. This option is mutually exclusive with gridSize.
        gridSize: Grid cell-size. If greater than 0, kMeans will be run independently on
            cells of this size. This option is mutually exclusive with neighborhoodSize.
        forceConvergence: If true, an error is thrown if convergence is not achieved before
            numIterations.
        uniqueLabels: If true, clusters are assigned unique IDs. Otherwise, they repeat per
            tile or grid cell.
    """
    if numClusters < 1 or numIterations < 1:
        raise InvalidArgumentError("KMeans: numClusters and numIterations must be positive.")
    cell, overlap = _cells("KMeans", neighborhoodSize, gridSize, image)
    source = KMeansBand(
        tuple(b.source for b in image.bands),
        numClusters,
        numIterations,
        overlap,
        cell,
        forceConvergence,
        uniqueLabels,
    )
    first = image.bands[0]
    return Image((Band("clusters", source, first.projection, first.dimensions),))

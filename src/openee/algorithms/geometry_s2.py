"""Geometries of S2 cells (Google's hierarchical cells on the sphere), by id or token.

The cell arithmetic comes from Google's own S2 library (the `s2geometry` bindings). A cell's
edges are geodesics, so its polygon is geodesic.
"""

from __future__ import annotations

import s2geometry as s2
import shapely.geometry

from openee.algorithms.registry import algorithm
from openee.errors import InvalidArgumentError
from openee.values.geometry import WGS84, Geometry

UINT64 = 1 << 64


def cell_polygon(cell_id: int) -> Geometry:
    """The polygon of an S2 cell: its four vertices, counter-clockwise."""
    # Earth Engine's Long is signed: ids of faces 4 and 5 arrive negative.
    unsigned = cell_id + UINT64 if cell_id < 0 else cell_id
    if not 0 <= unsigned < UINT64:
        raise InvalidArgumentError(f"{cell_id} is not a 64-bit S2 cell id.")
    cid = s2.S2CellId(unsigned)
    if not cid.is_valid():
        raise InvalidArgumentError(f"{cell_id} is not a valid S2 cell id.")
    cell = s2.S2Cell(cid)
    corners = []
    for k in range(4):
        vertex = s2.S2LatLng(cell.GetVertex(k))
        corners.append((vertex.lng().degrees(), vertex.lat().degrees()))
    return Geometry(shapely.geometry.Polygon(corners), WGS84, True)


@algorithm("Geometry.fromS2CellId")
def from_s2_cell_id(cellId: int) -> Geometry:
    """Returns the polygon of the S2 cell with the given id.

    Args:
        cellId: The S2 cell id, as a 64-bit integer (signed ids are read as unsigned).
    """
    return cell_polygon(cellId)


@algorithm("Geometry.s2Cell")
def s2_cell(cellId: int) -> Geometry:
    """Returns the polygon of the S2 cell with the given id.

    Args:
        cellId: The S2 cell id, as a 64-bit integer (signed ids are read as unsigned).
    """
    return cell_polygon(cellId)


@algorithm("Geometry.fromS2CellToken")
def from_s2_cell_token(cellToken: str) -> Geometry:
    """Returns the polygon of the S2 cell with the given token (the id in hexadecimal, trailing
    zeros dropped).

    Args:
        cellToken: The S2 cell token.
    """
    token = cellToken.strip().lower()
    if not token or len(token) > 16 or any(c not in "0123456789abcdef" for c in token):
        raise InvalidArgumentError(f"invalid S2 cell token '{cellToken}'.")
    return cell_polygon(int(token.ljust(16, "0"), 16))

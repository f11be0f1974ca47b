"""The bundled demo imagery and how it becomes the demo catalog."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
S2_L2A_CATALOG = DATA_DIR / "sentinel2" / "l2a_33TWL_33TWM_2023-08_120m" / "catalog.json"
S2_COLLECTION_ID = "COPERNICUS/S2_SR_HARMONIZED"

"""Earth Engine's "Image computations with the REST API" tutorial, step for step, against openee.

Only the base URL, the key file, the coordinates, the dates and the collection differ from the
tutorial. Start the server first (`make serve`), then: `python examples/compute_image.py`.
"""

from __future__ import annotations

import json
import os

import ee
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

URL = os.environ.get("OPENEE_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("OPENEE_KEY", "openee-data/keys/default.json")

# Start an AuthorizedSession and test the credentials.
credentials = service_account.Credentials.from_service_account_file(KEY)
scoped_credentials = credentials.with_scopes(["https://www.googleapis.com/auth/cloud-platform"])
session = AuthorizedSession(scoped_credentials)
response = session.get(
    f"{URL}/v1beta/projects/earthengine-public/assets/COPERNICUS/S2_SR_HARMONIZED"
)
print(json.loads(response.content)["type"])

# Authenticate to Earth Engine.
with open(KEY) as f:
    key = json.load(f)
PROJECT = key["project_id"]
ee_creds = ee.ServiceAccountCredentials(key["client_email"], KEY)
ee.Initialize(ee_creds, project=PROJECT, url=URL)

# Define a computation: a median composite near Zagreb in August 2023.
coords = [15.9, 45.85]
region = ee.Geometry.Point(coords)
collection = ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
collection = collection.filterBounds(region)
collection = collection.filterDate("2023-08-01", "2023-09-01")
image = collection.median()

# Serialize the expression graph.
serialized = ee.serializer.encode(image)

# The demo imagery has 120 m pixels; the tutorial uses 10 m for Sentinel-2.
proj = ee.Projection("EPSG:4326").atScale(120).getInfo()
scale_x = proj["transform"][0]
scale_y = -proj["transform"][4]

response = session.post(
    url=f"{URL}/v1beta/projects/{PROJECT}/image:computePixels",
    data=json.dumps(
        {
            "expression": serialized,
            "fileFormat": "PNG",
            "bandIds": ["B4", "B3", "B2"],
            "grid": {
                "dimensions": {"width": 640, "height": 640},
                "affineTransform": {
                    "scaleX": scale_x,
                    "shearX": 0,
                    "translateX": coords[0],
                    "shearY": 0,
                    "scaleY": scale_y,
                    "translateY": coords[1],
                },
                "crsCode": "EPSG:4326",
            },
            "visualizationOptions": {"ranges": [{"min": 0, "max": 3000}]},
        }
    ),
)
response.raise_for_status()
with open("median.png", "wb") as f:
    f.write(response.content)
print(f"wrote median.png ({len(response.content)} bytes)")

"""First start: create the catalog, ingest the bundled demo imagery, write a service-account key.

Every step is idempotent, so a restart reuses what is there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from openee.auth import AuthStore, create_service_account_key, write_key_file
from openee.catalog.names import name_from_id
from openee.catalog.profiles import SENTINEL2_L2A
from openee.catalog.stac_ingest import ingest_stac
from openee.catalog.store import CatalogStore, open_store
from openee.demo import S2_COLLECTION_ID, S2_L2A_CATALOG
from openee.settings import Settings

log = logging.getLogger("openee.bootstrap")


@dataclass(frozen=True)
class Bootstrapped:
    catalog: CatalogStore
    auth: AuthStore
    default_key_path: Path
    created_key: bool


def bootstrap(settings: Settings) -> Bootstrapped:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = open_store(settings.catalog_target)
    if catalog.get(name_from_id(S2_COLLECTION_ID)) is None:
        count = ingest_stac(catalog, S2_L2A_CATALOG, S2_COLLECTION_ID, SENTINEL2_L2A)
        log.info("ingested the demo collection %s (%d images)", S2_COLLECTION_ID, count)
    auth = AuthStore(settings.auth_path)
    key_path = settings.keys_dir / "default.json"
    created = False
    if not key_path.exists():
        key = create_service_account_key(auth, settings.default_project, settings.token_url)
        write_key_file(key, key_path)
        created = True
    return Bootstrapped(catalog, auth, key_path, created)

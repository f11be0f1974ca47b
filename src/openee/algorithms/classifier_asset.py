"""Classifiers saved as assets: `Classifier.load` reads back what `Export.classifier.toAsset`
stored (docs/decisions/0043)."""

from __future__ import annotations

from pathlib import Path

from openee.algorithms.context import current
from openee.algorithms.registry import algorithm
from openee.catalog.model import CLASSIFIER
from openee.catalog.names import name_from_id
from openee.errors import AssetNotFoundError, FailedPreconditionError, InvalidArgumentError
from openee.values.classifier import Classifier
from openee.values.classifier_document import from_document


@algorithm("Classifier.load")
def load(id: str) -> Classifier:
    """Creates a Classifier from a classifier saved by Export.classifier.toAsset: it classifies
    exactly as the exported classifier did.

    Args:
        id: The Classifier's asset id.
    """
    record = current().catalog.get(name_from_id(id))
    if record is None:
        raise AssetNotFoundError(id)
    if record.type != CLASSIFIER:
        raise InvalidArgumentError(f"Asset '{id}' is not a Classifier (it is {record.type}).")
    if len(record.sources) != 1:
        raise FailedPreconditionError(f"Classifier asset '{id}' has no stored classifier.")
    try:
        text = Path(record.sources[0]).read_text()
    except OSError:
        raise FailedPreconditionError(
            f"The stored classifier of asset '{id}' cannot be read."
        ) from None
    return from_document(text)

"""Earth Engine algorithms that openee does not serve on purpose, each with its reason (ADR 0032).

The reason is given in the 501 answer to a call, in the algorithms listing and in the README's
"Not served, and why" table (generated from here). An algorithm missing from this table and from
the registry is simply not done yet.
"""

from __future__ import annotations

_REMOVED = (
    "removed by Earth Engine in 2021 (announcement 'Old classifiers will stop working on "
    "March 1'); not an alias of a smile* classifier (other arguments and defaults). Use {}"
)
_WEKA = (
    "its clusters are defined by Weka's implementation ({}); no installed library reproduces "
    "them and no documented property pins them down"
)

REASONS: dict[str, str] = {
    "Classifier.cart": _REMOVED.format("Classifier.smileCart."),
    "Classifier.randomForest": _REMOVED.format("Classifier.smileRandomForest."),
    "Classifier.continuousNaiveBayes": _REMOVED.format("Classifier.smileNaiveBayes."),
    "Classifier.gmoLinearRegression": _REMOVED.format("Classifier.libsvm or smileCart."),
    "Classifier.gmoMaxEnt": _REMOVED.format("Classifier.smileRandomForest or libsvm."),
    "Classifier.ikpamir": _REMOVED.format("Classifier.libsvm."),
    "Classifier.pegasos": _REMOVED.format("Classifier.libsvm."),
    "Classifier.pegasosGaussian": _REMOVED.format("Classifier.libsvm (kernelType 'RBF')."),
    "Classifier.pegasosLinear": _REMOVED.format("Classifier.libsvm (kernelType 'LINEAR')."),
    "Classifier.pegasosPolynomial": _REMOVED.format("Classifier.libsvm (kernelType 'POLY')."),
    "Classifier.perceptron": _REMOVED.format("Classifier.libsvm."),
    "Classifier.winnow": _REMOVED.format("Classifier.libsvm."),
    "Classifier.amnhMaxent": (
        "Maxent's feature classes, regularisation and clamping are defined by the AMNH Java "
        "implementation; no installed library reproduces its numbers"
    ),
    "Landsat.pathRowLimit": (
        "Earth Engine's per-request ranking of scenes per path/row is not documented "
        "(ADR 0028); Landsat.simpleComposite's maxDepth limits scenes per pixel instead"
    ),
    "Feature.hersDescriptor": (
        "the HERS descriptor's definition is not published, so no result could be checked "
        "against Earth Engine's"
    ),
    "Classifier.TrainingContainer": "a hidden Earth Engine internal that scripts do not call",
    "Clusterer.TrainingContainer": "a hidden Earth Engine internal that scripts do not call",
    "Clusterer.wekaLVQ": _WEKA.format("random prototypes, update order"),
    "Clusterer.wekaCobweb": _WEKA.format("incremental category utility, instance order"),
    "Image.Segmentation.GMeans": (
        "the normality test's pValue (default 50) has no documented scale, so the number of "
        "clusters cannot be chosen as Earth Engine does"
    ),
    "HoughTransform": "its accumulator grid, smoothing and line output are undocumented",
    "FeatureCollection.loadBigQueryTable": "needs Google BigQuery",
    "FeatureCollection.runBigQuery": "needs Google BigQuery",
    "Image.hersDescriptor": "the HERS descriptor is undocumented",
    "Image.hersFeature": "the HERS descriptor is undocumented",
    "Image.hersImage": "the HERS descriptor is undocumented",
    "Image.loadMosaic": "a hidden Earth Engine internal that loads Google's own mosaics",
}

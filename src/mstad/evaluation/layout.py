"""The one definition of how metrics are laid out: protocol names, metric groups, the headline
metrics with their display titles, and the warnings that travel with them.

The CLI, the report, the dashboard and the benchmark table all read it, so they show the same
metrics under the same names. Light on purpose (no numpy, no scikit-learn): ``mstad --help``
imports it.
"""

from __future__ import annotations

#: the two ways of pooling entities (see :func:`mstad.evaluation.aggregate`)
PROTOCOLS = ("concat", "per_entity_mean")
PROTOCOL_TITLES = {"concat": "concat", "per_entity_mean": "per entity (mean)"}

#: metrics that need no threshold: the headline of every comparison
THRESHOLD_FREE = ("auroc", "ap", "vus_roc", "vus_pr", "range_auc_roc", "range_auc_pr")
#: the threshold is picked on the test labels: only to compare with papers
ORACLE = ("best_f1", "best_composite_f1", "best_pa_f1")
#: at the threshold fitted on validation scores (no test labels)
AT_THRESHOLD = ("precision", "recall", "f1", "composite_f1", "pa_f1")

#: headline metrics, in order, with their display titles: threshold-free ones first
HEADLINE = {"auroc": "AUROC", "ap": "AP", "vus_pr": "VUS-PR", "vus_roc": "VUS-ROC"}
#: shown beside the headline, marked as what they are
ORACLE_SHOWN = {"best_f1": "best-F1*"}
AT_THRESHOLD_SHOWN = {"precision": "P", "recall": "R", "f1": "F1"}

PA_WARNING = (
    "point-adjusted F1 is inflated: one hit inside an event marks the whole event detected, so "
    "a random score reaches PA-F1 0.74 on SMAP (Garg et al.); compare only threshold-free metrics"
)
ORACLE_WARNING = "best_* metrics choose the threshold on the test labels (an oracle)"
ORACLE_NOTE = (
    "* best-F1 picks its threshold on the test labels (an oracle). Thresholds for P/R/F1 were "
    "fitted on validation scores only."
)


def how_to_read(positive_rate: float, ap: float | None = None) -> str:
    """A few lines on reading the numbers: threshold-free first, and what AP means at this
    positive rate (a random score's AP equals the positive rate)."""
    versus = (
        f"; this run's AP {ap:.3f} is {ap / positive_rate:.0f}× that"
        if ap is not None and positive_rate > 0
        else ""
    )
    return (
        "How to read this: AUROC and AP need no threshold — compare detectors on them. AUROC "
        "0.5 is a random score, 1.0 ranks every anomalous step above every normal one. AP is "
        "the precision averaged over recall levels; a random score gets AP ≈ the share of "
        f"anomalous steps, {positive_rate:.3f} here{versus}. P / R / F1 come from one threshold "
        "fitted on validation data only, so they depend on that choice; best-F1* is an oracle."
    )


def benchmark_columns() -> dict[str, tuple[str, str]]:
    """``benchmark.csv`` columns: ``<protocol-prefix>_<metric>`` for the headline and oracle F1."""
    prefix = {"concat": "concat", "per_entity_mean": "entity"}
    keys = (*HEADLINE, *ORACLE_SHOWN)
    return {f"{prefix[p]}_{k}": (p, k) for p in PROTOCOLS for k in keys}

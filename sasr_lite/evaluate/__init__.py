"""Evaluation, one job per module:

- `tables`: predictions matched to records by question id; accuracy in the paper's Table 1 layout
  (AVQA-Yang's on its records), per template, and the published rows (numbers from `sasr_lite.paper`);
- `statistics`: seeded bootstrap intervals, paired intervals of two runs, the answer-prior floor;
- `predict`: a model's answers on a split (and its attention), `load_model` from a checkpoint;
- `attention`: the attention graded against the synthetic scenes' ground truth;
- `report`: `evaluate_split`, all of the above for one model on one split;
- `cli`: `sasr-lite eval` (and ``python -m sasr_lite.evaluate``).

The names below are the package's public ones, so ``from sasr_lite.evaluate import X`` reads X
from whichever module holds it.
"""

from sasr_lite.data.datasets import AVG, OVERALL
from sasr_lite.evaluate.attention import grade_attention
from sasr_lite.evaluate.predict import ModelPredictions, load_model, predict
from sasr_lite.evaluate.report import EvalReport, attention_table, evaluate_split
from sasr_lite.evaluate.statistics import (
    bootstrap_indices, bootstrap_run_picks, bootstrap_table, head_tail_table, paired_bootstrap, paired_bootstrap_runs,
    prior_accuracy, prior_warning,
)
from sasr_lite.evaluate.tables import (
    TABLE_COLUMNS, accuracy_table, columns_of, correctness, fit_table, format_table, markdown_table,
    published_table, question_counts, table_columns, template_table,
)

__all__ = [
    "AVG", "OVERALL", "TABLE_COLUMNS", "EvalReport", "ModelPredictions", "accuracy_table", "attention_table",
    "bootstrap_indices", "bootstrap_run_picks", "bootstrap_table", "columns_of", "correctness", "evaluate_split",
    "fit_table", "format_table", "grade_attention", "head_tail_table", "load_model", "markdown_table",
    "paired_bootstrap", "paired_bootstrap_runs", "predict", "prior_accuracy", "prior_warning", "published_table",
    "question_counts", "table_columns", "template_table",
]

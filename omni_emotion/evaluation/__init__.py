"""OV-MERD / EMER-OV evaluation: emotion-wheel tables, the EW metric, label extraction, dataset runner.

Typical use::

    tables = load_wheels("path/to/emotion_wheel")
    result = score_dataset(truth_labels, predicted_labels, tables)   # name -> list[str] each
    result.summary()["M-avg"]
    floor = best_constant(truth_labels, tables)   # the best constant answer: the score's floor
    floor.labels, floor.result.m_avg

    evaluation = run_evaluation(EvalRequest(gt="check-openset.csv", pred="openset.csv"))   # files to scores
    evaluation.result.samples, evaluation.floor, evaluation.published
"""

from omni_emotion.evaluation.floor import Floor, best_constant, floor_of
from omni_emotion.evaluation.metrics import EvalResult, GroupingScore, SampleResult, score_dataset, set_scores
from omni_emotion.evaluation.reward import REWARD_GROUPINGS, group_scores
from omni_emotion.evaluation.session import EvalRequest, Evaluation, run_evaluation
from omni_emotion.evaluation.wheels import GROUPINGS, L1_GROUPINGS, WheelTables, load_wheels
from omni_emotion.mentions import (
    LabelExtractor,
    LLMExtractor,
    Mention,
    MentionConfig,
    RuleExtractor,
    Vocabulary,
    find_emotion_mentions,
    parse_labels,
)

__all__ = [
    "GROUPINGS",
    "L1_GROUPINGS",
    "REWARD_GROUPINGS",
    "EvalRequest",
    "EvalResult",
    "Evaluation",
    "Floor",
    "GroupingScore",
    "LLMExtractor",
    "LabelExtractor",
    "Mention",
    "MentionConfig",
    "RuleExtractor",
    "SampleResult",
    "Vocabulary",
    "WheelTables",
    "best_constant",
    "find_emotion_mentions",
    "floor_of",
    "group_scores",
    "load_wheels",
    "parse_labels",
    "run_evaluation",
    "score_dataset",
    "set_scores",
]

"""Adaptive recommendation for excellent students (SPEC §4).

"Excellent students — adaptive recommendation: collaborative filtering recommends learning paths,
courses, partners, research and innovation projects; missing ratings in the sparse matrix are first
filled by multiple linear regression."

* :mod:`.interactions` — implicit-feedback matrices (users × items) per kind, from the statements;
* :mod:`.features`, :mod:`.fill` — the indicators as a design matrix; the MLR fill of empty cells;
* :mod:`.baselines`, :mod:`.knn`, :mod:`.als` — popularity and random; item-based CF; implicit ALS;
* :mod:`.paths` — learning paths from the successful learners;
* :mod:`.split`, :mod:`.metrics`, :mod:`.evaluate` — the offline evaluation;
* :mod:`.targets`, :mod:`.recommend` — who is served, and the top-k with reasons
  (``learnsight recommend``).
"""

from learnsight.interventions.recommend.als import ImplicitALS
from learnsight.interventions.recommend.base import BaseRecommender, top_k
from learnsight.interventions.recommend.baselines import PopularityRecommender, RandomRecommender
from learnsight.interventions.recommend.evaluate import (
    FEATURES_AS_OF,
    MODELS,
    Evaluation,
    evaluate,
    evaluate_store,
    make_model,
    store_matrices,
)
from learnsight.interventions.recommend.features import Features, indicator_features, standardise
from learnsight.interventions.recommend.fill import MLRFill, mlr_fill
from learnsight.interventions.recommend.interactions import (
    KINDS,
    PROJECT,
    Interactions,
    RecommendError,
    from_triples,
    load_interactions,
    resource_courses,
)
from learnsight.interventions.recommend.knn import ItemKNNRecommender
from learnsight.interventions.recommend.metrics import (
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
)
from learnsight.interventions.recommend.paths import LearningPath, PathStep, learning_path, next_steps
from learnsight.interventions.recommend.recommend import RECOMMENDATION_SCHEMA, recommend
from learnsight.interventions.recommend.split import Split, holdout_split
from learnsight.interventions.recommend.targets import excellent_pairs, excellent_students

__all__ = [
    "FEATURES_AS_OF",
    "KINDS",
    "MODELS",
    "PROJECT",
    "RECOMMENDATION_SCHEMA",
    "BaseRecommender",
    "Evaluation",
    "Features",
    "ImplicitALS",
    "Interactions",
    "ItemKNNRecommender",
    "LearningPath",
    "MLRFill",
    "PathStep",
    "PopularityRecommender",
    "RandomRecommender",
    "RecommendError",
    "Split",
    "evaluate",
    "evaluate_store",
    "excellent_pairs",
    "excellent_students",
    "from_triples",
    "holdout_split",
    "indicator_features",
    "learning_path",
    "load_interactions",
    "make_model",
    "mlr_fill",
    "ndcg_at_k",
    "next_steps",
    "precision_at_k",
    "ranking_metrics",
    "recall_at_k",
    "recommend",
    "resource_courses",
    "standardise",
    "store_matrices",
    "top_k",
]

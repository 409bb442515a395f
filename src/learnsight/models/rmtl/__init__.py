"""Robust multi-task learning (Chen, Zhou & Ye, KDD 2011): low-rank shared structure plus outlier tasks."""

from learnsight.models.rmtl.classifier import RMTLClassifier
from learnsight.models.rmtl.path import RMTLClassifierCV, RMTLPath, RMTLRegressorCV, rmtl_path
from learnsight.models.rmtl.prox import group_shrink, svt
from learnsight.models.rmtl.regressor import RMTLRegressor
from learnsight.models.rmtl.solver import fista, rmtl_objective

__all__ = [
    "RMTLClassifier",
    "RMTLClassifierCV",
    "RMTLPath",
    "RMTLRegressor",
    "RMTLRegressorCV",
    "fista",
    "group_shrink",
    "rmtl_objective",
    "rmtl_path",
    "svt",
]

"""Semi-supervised learning from few labels and many unlabelled samples (SPEC §6).

:class:`LapSVM` (one kernel, one graph) and :class:`MultiKernelLapSVM` (several base kernels deformed
by several graphs, weights learned by the level method) are scikit-learn classifiers; unlabelled
targets are ``-1``, as in :mod:`sklearn.semi_supervised`.  Underneath: data graphs and their
Laplacians (:mod:`.graph`), base and graph-deformed kernels (:mod:`.kernels`, :mod:`.deformation`),
exact or Nyström feature maps (:mod:`.features`), the SVM solvers and calibration (:mod:`.solvers`)
and the kernel-weight search (:mod:`.mkl`).  :class:`LapRLS` is the regressor of the same framework
(linear Laplacian-regularised least squares; unlabelled targets are NaN), for scores on a scale.
"""

from learnsight.models.semisupervised._base import UNLABELLED
from learnsight.models.semisupervised.graph import Graph
from learnsight.models.semisupervised.kernels import DEFAULT_KERNELS, BaseKernel
from learnsight.models.semisupervised.laprls import LapRLS
from learnsight.models.semisupervised.lapsvm import LapSVM
from learnsight.models.semisupervised.multikernel import MultiKernelLapSVM, default_graphs

__all__ = [
    "DEFAULT_KERNELS",
    "UNLABELLED",
    "BaseKernel",
    "Graph",
    "LapRLS",
    "LapSVM",
    "MultiKernelLapSVM",
    "default_graphs",
]

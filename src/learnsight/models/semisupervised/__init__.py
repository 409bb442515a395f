"""Semi-supervised learning from few labels and many unlabelled samples (SPEC §6): data graphs and
their Laplacians (:mod:`.graph`), base and graph-deformed kernels (:mod:`.kernels`).  Unlabelled
targets are ``-1``, as in :mod:`sklearn.semi_supervised`."""

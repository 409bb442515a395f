"""The synthetic campus: a seeded, vectorised simulator of one semester from every source.

``simulate_campus(CampusConfig(...))`` draws latent student traits and produces LMS, classroom,
camera, canteen, dorm, network, library and registry statements plus learner profiles whose
behaviour carries planted signal (see :mod:`learnsight.simulate.campus` for the map of modules);
``write_campus`` ingests them, ``export_sources`` writes each source's raw files.
"""

from learnsight.simulate.campus import (
    Campus,
    GroundTruth,
    export_sources,
    simulate_campus,
    simulate_ground_truth,
    write_campus,
)
from learnsight.simulate.config import CampusConfig
from learnsight.simulate.treatment import Treatment

__all__ = [
    "Campus",
    "CampusConfig",
    "GroundTruth",
    "Treatment",
    "export_sources",
    "simulate_campus",
    "simulate_ground_truth",
    "write_campus",
]

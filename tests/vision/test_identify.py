"""Face descriptions and open-set identification on the real roster (faces/roster/) and on photos of
people who are not in it (faces/expressions/)."""

from __future__ import annotations

import doctest
import math
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from learnsight.vision import descriptors, identify
from learnsight.vision.descriptors import FEATURES, DescriptorError, FaceDescription, describe, lbp_codes
from learnsight.vision.faces import FaceDetector, read_image
from learnsight.vision.identify import (
    DEFAULT_CALIBRATION,
    NOT_ENROLLED,
    IdentificationError,
    Identifier,
    cohort_normalise,
    describe_scaled,
    evaluate_descriptions,
    evaluate_identification,
    fit_calibration,
    impostor_half,
    open_set_posterior,
    person_of,
    platt_fit,
)
from learnsight.vision.roster import Roster
from learnsight.vision.types import Box, Face

pytestmark = pytest.mark.realdata

IMPOSTORS = 12


@cache
def _described(faces_dir: Path) -> tuple[Roster, list[tuple[str, FaceDescription]]]:
    """The whole roster and a few evaluation-half impostors, described once per test session."""
    with FaceDetector("mediapipe", full_range=False) as detector:
        students: dict[str, list[FaceDescription]] = {}
        for folder in sorted((faces_dir / "roster").iterdir()):
            for photo in sorted(folder.glob("*.jpg")):
                d = describe_scaled(photo, detector)[1.0]
                assert d is not None, photo
                students.setdefault(folder.name, []).append(d)
        paths = sorted((faces_dir / "expressions" / "images").glob("*.jpg"))
        paths = [p for p in paths if impostor_half(person_of(p)) == "evaluation"]
        impostors = []
        for photo in paths[:: len(paths) // IMPOSTORS][:IMPOSTORS]:
            d = describe_scaled(photo, detector)[1.0]
            if d is not None:
                impostors.append((person_of(photo), d))
    return Roster.from_descriptions("johns", students), impostors


@pytest.fixture
def roster(faces_dir: Path) -> Roster:
    return _described(faces_dir)[0]


@pytest.fixture
def impostors(faces_dir: Path) -> list[tuple[str, FaceDescription]]:
    return _described(faces_dir)[1]


def test_doctests_pass() -> None:
    for module in (descriptors, identify):
        result = doctest.testmod(module)
        assert result.attempted >= 2 and result.failed == 0, module.__name__


# -- descriptions ----------------------------------------------------------------------------------------
def test_description_vectors(faces_dir: Path) -> None:
    photo = sorted((faces_dir / "roster" / "John_Simm").glob("*.jpg"))[0]
    image = read_image(photo)
    with FaceDetector("mediapipe", full_range=False) as detector:
        face = detector.detect(image)[0]
    d = describe(image, face)
    assert d is not None
    assert d.face.shape == (128,) and d.face.dtype == np.float32
    assert 0.5 < float(np.linalg.norm(d.face)) < 1.5
    for name in ("eyes", "nose", "mouth"):
        assert float(np.linalg.norm(d.feature(name))) == pytest.approx(1.0, abs=1e-5)
    assert d.landmarks is not None and d.landmarks.shape == (68, 2)
    again = FaceDescription.from_bytes(d.to_bytes())
    for name in FEATURES:
        np.testing.assert_array_equal(again.feature(name), d.feature(name))
    # unusable crops
    assert describe(image, Face(Box(10, 10, 12, 12), 0.9)) is None  # too small
    assert describe(image, Face(Box(140, 140, 100, 100), 0.9)) is None  # mostly outside
    with pytest.raises(DescriptorError, match="unknown face feature"):
        d.feature("ears")
    with pytest.raises(DescriptorError, match="corrupt"):
        FaceDescription.from_bytes(d.to_bytes()[:-4])


def test_lbp_of_a_flat_patch_is_one_uniform_code() -> None:
    codes = lbp_codes(np.full((5, 5), 9, dtype=np.uint8))
    assert codes.shape == (3, 3) and set(codes.ravel().tolist()) == {57}


# -- calibration pieces ------------------------------------------------------------------------------------
def test_open_set_posterior_and_platt() -> None:
    post = open_set_posterior(np.array([2.0, -1.0, -np.inf]))
    assert post.sum() == pytest.approx(1.0)
    assert post[2] == 0.0 and post[0] > post[3] > post[1]
    a, b = platt_fit(np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9, 1.0]), np.array([1, 1, 1, 0, 0, 0, 0], bool))
    assert b < 0 and 0.3 < -a / b < 0.7
    with pytest.raises(IdentificationError, match="both matching"):
        platt_fit(np.array([0.1, 0.2]), np.array([True, True]))
    assert cohort_normalise(np.array([0.5, np.inf, 1.0])).tolist() == [0.5, math.inf, 2.0]


def test_calibration_on_the_roster(roster: Roster) -> None:
    calibration = fit_calibration(roster)
    assert set(calibration) == set(FEATURES)
    face = calibration["face"]
    assert face.slope < 0 and 0.4 < face.threshold < 0.65  # dlib's own threshold is 0.6
    assert face.reliability == pytest.approx(0.95)
    for name in ("eyes", "nose", "mouth"):  # weaker than the ResNet, but informative
        assert 0.2 < calibration[name].reliability < face.reliability
    one_student = Roster.from_descriptions("one", {"ann": roster.descriptions(roster.students[0])})
    assert fit_calibration(one_student) == DEFAULT_CALIBRATION


# -- identification ----------------------------------------------------------------------------------------
def test_leave_one_out_accuracy_on_the_roster(roster: Roster) -> None:
    correct = 0
    for i, entry in enumerate(roster.entries):
        result = Identifier(roster.without(indices={i})).identify([entry.description])
        correct += result.student == entry.student
        assert result.stage in (1, 2) and 0.0 <= result.probability <= 1.0
        assert 0.0 <= result.conflict < 1.0
    assert len(roster.entries) == 55
    assert correct / len(roster.entries) >= 0.96


def test_a_person_left_out_of_the_roster_is_not_enrolled(roster: Roster) -> None:
    for student in roster.students:
        identifier = Identifier(roster.without(student=student))
        results = [identifier.identify([d]) for d in roster.descriptions(student)]
        assert sum(r.student is None for r in results) >= len(results) - 1, student


def test_impostors_from_expressions_are_not_enrolled(
    roster: Roster, impostors: list[tuple[str, FaceDescription]]
) -> None:
    assert len(impostors) >= IMPOSTORS - 2
    assert not {p for p, _ in impostors} & set(roster.students)
    identifier = Identifier(roster)
    results = [identifier.identify([d]) for _, d in impostors]
    assert sum(r.student is None for r in results) >= len(results) - 1
    first = results[0]
    assert first.student is None and first.probability > 0.5
    assert len(first.candidates) == 3 and set(first.candidates) <= set(roster.students)


def test_a_track_is_fused_with_dempster_shafer(roster: Roster) -> None:
    student = roster.students[2]
    indices = [i for i, e in enumerate(roster.entries) if e.student == student][:4]
    gallery = roster.without(indices=set(indices))
    track = [roster.entries[i].description for i in indices]
    ds_only = Identifier(gallery, accept_probability=math.inf)  # always stage 2
    fused = ds_only.identify(track)
    assert fused.student == student and fused.stage == 2
    assert 0.0 <= fused.conflict < 1.0 and fused.probability > 0.5
    assert fused.candidates[0] == student
    # four frames × four features of evidence
    masses = ds_only.masses(track, fused.candidates)
    assert len(masses) == 4 * len(FEATURES)
    frame = frozenset({*fused.candidates, NOT_ENROLLED})
    assert all(sum(m.values()) == pytest.approx(1.0) and max(m, key=len) == frame for m in masses)
    # more frames of the same person make the fused decision more confident
    single = ds_only.identify(track[:1])
    assert fused.probability >= single.probability
    assert Identifier(gallery).identify(track).student == student


def test_an_impostor_track_is_not_enrolled(
    roster: Roster, impostors: list[tuple[str, FaceDescription]]
) -> None:
    track = [d for _, d in impostors[:4]]
    assert Identifier(roster, accept_probability=math.inf).identify(track).student is None


def test_identifier_refuses_bad_input(roster: Roster) -> None:
    with pytest.raises(IdentificationError, match="no enrolled photo"):
        Identifier(Roster("empty", ()))
    with pytest.raises(IdentificationError, match="candidates"):
        Identifier(roster, candidates=0)
    with pytest.raises(IdentificationError, match="unknown features"):
        Identifier(roster, features=("ears",))
    with pytest.raises(IdentificationError, match="no face description"):
        Identifier(roster).identify([])


def test_evaluate_descriptions_reports_every_figure(
    roster: Roster, impostors: list[tuple[str, FaceDescription]]
) -> None:
    result = evaluate_descriptions(roster, impostors, tracks_per_person=1)
    assert result["loo_probes"] == 55
    assert result["loo_accuracy"] >= 0.96
    assert result["impostor_not_enrolled_rate"] >= 0.9
    assert result["tracks_roster"] == 5
    for key in ("single", "fused", "ds_only", "mean_stage1"):
        assert 0.0 <= result[f"track_{key}_accuracy"] <= 1.0
    assert result["track_fused_accuracy"] >= 0.8


def small_roster(faces_dir: Path, tmp_path: Path, impostors: int) -> tuple[Path, Path]:
    """A roster folder of 3 real students × 3 photos and a folder of ``impostors`` other people."""
    roster_dir, others = tmp_path / "roster", tmp_path / "others"
    for student in ("John_Salley", "John_Savage", "John_Shimkus"):
        (roster_dir / student).mkdir(parents=True)
        for photo in sorted((faces_dir / "roster" / student).glob("*.jpg"))[:3]:
            shutil.copy(photo, roster_dir / student / photo.name)
    others.mkdir()
    for photo in sorted((faces_dir / "expressions" / "images").glob("A*.jpg"))[:impostors]:
        shutil.copy(photo, others / photo.name)
    return roster_dir, others


def test_evaluate_identification_from_folders(faces_dir: Path, tmp_path: Path) -> None:
    roster_dir, others = small_roster(faces_dir, tmp_path, 3)
    result = evaluate_identification(roster_dir, others, tracks_per_person=1)
    assert (result["roster_students"], result["roster_photos"], result["loo_probes"]) == (3, 9, 9)
    assert result["loo_accuracy"] >= 8 / 9
    assert result["impostor_photos"] + result["impostor_skipped"] == 3
    assert result["impostor_not_enrolled_rate"] == 1.0
    assert result["photo_ms"] > 0
    alone = evaluate_identification(roster_dir, None, tracks_per_person=1)
    assert alone["impostor_photos"] == 0 and math.isnan(alone["impostor_not_enrolled_rate"])


def test_cli_identify_eval_on_the_enrolled_roster_and_folder(faces_dir: Path, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from learnsight.cli import app

    roster_dir, others = small_roster(faces_dir, tmp_path, 2)
    db = tmp_path / "store.duckdb"
    runner = CliRunner()
    enrolled = runner.invoke(app, ["video", "enroll", str(roster_dir), "--roster", "r1", "--db", str(db)])
    assert enrolled.exit_code == 0, enrolled.output
    stored = runner.invoke(
        app, ["video", "identify-eval", "--roster", "r1", "--db", str(db), "--impostors", str(others)]
    )
    assert stored.exit_code == 0, stored.output
    from_store = json.loads(stored.output)
    from_folder = json.loads(runner.invoke(app, ["video", "identify-eval", str(roster_dir)]).output)
    assert from_store["roster"] == "r1" and from_store["store"] == str(db)
    # the stored descriptions are the folder's: the same leave-one-out result
    assert (from_store["roster_photos"], from_store["loo_probes"]) == (9, 9)
    assert from_store["loo_accuracy"] == from_folder["loo_accuracy"]
    assert from_store["impostor_not_enrolled_rate"] == 1.0
    both = runner.invoke(app, ["video", "identify-eval", str(roster_dir), "--roster", "r1", "--db", str(db)])
    assert both.exit_code != 0 and "not both" in str(both.exception)
    missing = runner.invoke(app, ["video", "identify-eval", "--roster", "nope", "--db", str(db)])
    assert missing.exit_code != 0 and "roster 'nope' not found" in str(missing.exception)
    for command in (["expressions-eval", "--help"], ["train-behaviour", "--help"], ["synthetic", "--help"]):
        assert "--db" in runner.invoke(app, ["video", *command]).output

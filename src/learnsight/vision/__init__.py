"""Classroom video (SPEC §5): one module per stage of a lesson's journey into statements.

``frames`` (decode, sample, enhance) → ``faces`` (detect) → ``tracking`` (follow each face across
frames) → ``identify`` with ``evidence`` (Dempster–Shafer) against a ``roster`` → ``expression``
(the project's own CNN) and ``posture`` (keypoint rules, SVM, 3D-CNN) → ``observations`` (xAPI
statements in the store) → ``summary`` (per-lesson and per-student tables and timelines).
``pipeline`` runs them in order.

Needs the ``video`` extra (``pip install -e '.[video]'``); every model either ships inside a wheel
(mediapipe, dlib's ``face_recognition_models``) or inside this package (the expression CNN), so
nothing is downloaded at run time.
"""

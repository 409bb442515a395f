-- Classroom-video rosters (learnsight.vision.roster): the face descriptions of enrolled students,
-- kept apart from the statements and encrypted at rest.  `description` is a Fernet token
-- (AES-128-CBC + HMAC-SHA256) of a FaceDescription; the key is never stored here: it lives in a
-- separate key file beside the store (mode 0600) or in LEARNSIGHT_ROSTER_KEY.  `key_id` is a
-- one-way fingerprint of that key, so a wrong key is reported as such rather than as tampering.
CREATE TABLE IF NOT EXISTS video_rosters (
    name         VARCHAR PRIMARY KEY,
    source       VARCHAR NOT NULL,    -- the folder enrolled from
    key_id       VARCHAR NOT NULL,    -- SHA-256 fingerprint of the Fernet key (16 hex digits)
    enrolled_at  TIMESTAMP NOT NULL   -- UTC
);
CREATE TABLE IF NOT EXISTS video_roster_faces (
    roster       VARCHAR NOT NULL,    -- video_rosters.name
    student      VARCHAR NOT NULL,    -- the student key: the name of the student's folder
    photo        VARCHAR NOT NULL,    -- file name inside that folder
    description  BLOB NOT NULL,       -- Fernet token of FaceDescription.to_bytes()
    PRIMARY KEY (roster, student, photo)
);

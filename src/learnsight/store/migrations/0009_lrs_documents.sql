-- Documents of the LRS's State, Activity Profile and Agent Profile resources (xAPI 1.0.3 Part
-- Three §2.3-2.6; learnsight.lrs.backend).  A kind uses only some scope columns; the others are ''.
CREATE TABLE IF NOT EXISTS lrs_documents (
    kind          VARCHAR NOT NULL,               -- state | activity_profile | agent_profile
    activity_id   VARCHAR NOT NULL DEFAULT '',
    agent         VARCHAR NOT NULL DEFAULT '',    -- actor key (learnsight.xapi.keys)
    registration  VARCHAR NOT NULL DEFAULT '',    -- lower-case UUID, '' = none
    document_id   VARCHAR NOT NULL,               -- stateId or profileId
    content       BLOB NOT NULL,
    content_type  VARCHAR NOT NULL,
    etag          VARCHAR NOT NULL,               -- SHA-1 hex of content
    updated       TIMESTAMP NOT NULL,             -- UTC
    PRIMARY KEY (kind, activity_id, agent, registration, document_id)
);

-- The Learning Record Store's HTTP Basic credentials (learnsight.lrs.auth).  Secrets are never
-- stored: only a salted scrypt digest.  `scopes` are the xAPI 1.0.3 OAuth scope names
-- (statements/write, statements/read, statements/read/mine, state, define, profile, all);
-- `authority` is the Agent the LRS writes as the `authority` of statements sent with the key.
CREATE TABLE IF NOT EXISTS lrs_credentials (
    key          VARCHAR PRIMARY KEY,   -- the Basic user name
    salt         BLOB NOT NULL,
    secret_hash  BLOB NOT NULL,         -- scrypt(secret, salt)
    scopes       VARCHAR NOT NULL,      -- space-separated scope names
    authority    VARCHAR NOT NULL,      -- JSON of the authority Agent
    created_at   TIMESTAMP NOT NULL
);

-- Lakehook's own table: webhook connections and their hashed API keys.
CREATE TABLE webhook_connections (
    id bigserial PRIMARY KEY,
    name varchar(100) NOT NULL UNIQUE,
    project_name varchar(255),
    -- SHA-256 of the key, hex. The key itself is never stored.
    api_key_hash varchar(64) NOT NULL UNIQUE,
    -- The first characters of the key, to tell keys apart in listings.
    api_key_hint varchar(16) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

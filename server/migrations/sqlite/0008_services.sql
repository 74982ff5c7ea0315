-- The services directory: the YOT's and partners' local services, searchable by everyone
-- signed in and shared into chats as cards. Purpose: signposting. Holds no personal data
-- (organisations' public contact details only); kept until an admin retires an entry, and
-- retired entries stay so that cards already shared still name what they pointed at.
CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    category    TEXT NOT NULL,
    description TEXT NOT NULL,
    area        TEXT,
    phone       TEXT,
    url         TEXT,
    hours       TEXT,
    min_age     BIGINT,
    max_age     BIGINT,
    -- name, category, description and area, lowercased by the server (Unicode-aware, where
    -- SQLite's LOWER() folds only ASCII), for search.
    search_text TEXT NOT NULL,
    retired     BIGINT NOT NULL DEFAULT 0,
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX services_category ON services (category) WHERE retired = 0;

"""The database schema as forward migrations; `daemon.store` applies them in order.

Each entry is one schema version. Never edit a released migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: everything the product needs from day one.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

    CREATE TABLE shoots (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );

    -- The seller's originals. The file itself is never copied or modified: path + sha256.
    CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        path TEXT NOT NULL,
        file_name TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        format TEXT,
        width INTEGER,
        height INTEGER,
        taken_at TEXT,
        camera_make TEXT,
        camera_model TEXT,
        orientation INTEGER,
        has_gps INTEGER NOT NULL DEFAULT 0,
        exif_json TEXT,
        shoot_id INTEGER REFERENCES shoots(id) ON DELETE SET NULL,
        registered_at TEXT NOT NULL,
        -- matcher version this photo was last matched against every competitor image with
        reverse_matched_version INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX photos_shoot ON photos(shoot_id);

    CREATE TABLE stores (
        id INTEGER PRIMARY KEY,
        marketplace TEXT NOT NULL,
        store_key TEXT NOT NULL,
        name TEXT,
        url TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        UNIQUE (marketplace, store_key)
    );

    CREATE TABLE listings (
        id INTEGER PRIMARY KEY,
        listing_key TEXT NOT NULL UNIQUE,
        marketplace TEXT NOT NULL,
        kind TEXT NOT NULL,
        product_id TEXT,
        store_id INTEGER REFERENCES stores(id) ON DELETE SET NULL,
        url TEXT NOT NULL,
        canonical_url TEXT,
        description_url TEXT,
        title TEXT,
        status TEXT NOT NULL,
        status_reason TEXT,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        -- set when a server-side visit hit a captcha: the extension should re-push it
        needs_browser_visit INTEGER NOT NULL DEFAULT 0,
        -- the separately served description page: NULL until fetched, then ok/failed
        description_status TEXT,
        description_error TEXT
    );
    CREATE INDEX listings_store ON listings(store_id);

    -- Competitor images, one row per identity key (all size/slug forms of one image).
    CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        image_key TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued'
            CHECK (status IN ('queued', 'fetched', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        -- a worker's claim; expires by itself, and a restarted daemon releases all of them
        leased_until TEXT,
        error_code TEXT,
        error TEXT,
        sha256 TEXT,
        content_type TEXT,
        size_bytes INTEGER,
        width INTEGER,
        height INTEGER,
        etag TEXT,
        last_modified TEXT,
        http_date TEXT,
        fetched_at TEXT,
        thumb BLOB,
        matched_version INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX images_due ON images(status, next_attempt_at);
    CREATE INDEX images_sha ON images(sha256);

    CREATE TABLE listing_images (
        listing_id INTEGER NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        position INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        PRIMARY KEY (listing_id, image_id)
    );
    CREATE INDEX listing_images_image ON listing_images(image_id);

    -- Fingerprints of either a catalog photo or a competitor image; `version` lets a new
    -- algorithm recompute them. `phash` is the 64-bit pHash as a signed integer, so the
    -- Hamming index loads without decoding the blob.
    CREATE TABLE fingerprints (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER UNIQUE REFERENCES photos(id) ON DELETE CASCADE,
        image_id INTEGER UNIQUE REFERENCES images(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        data BLOB NOT NULL,
        features BLOB,
        created_at TEXT NOT NULL,
        CHECK ((photo_id IS NULL) <> (image_id IS NULL))
    );

    CREATE TABLE matches (
        id INTEGER PRIMARY KEY,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('copy', 'similar')),
        score REAL NOT NULL,
        details TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (photo_id, image_id)
    );

    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        match_id INTEGER NOT NULL REFERENCES matches(id) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        listing_id INTEGER REFERENCES listings(id) ON DELETE SET NULL,
        kind TEXT NOT NULL CHECK (kind IN ('copied', 'resembles')),
        state TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'confirmed', 'dismissed')),
        own_time TEXT,
        other_first_seen TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        notify_state TEXT NOT NULL DEFAULT 'pending'
            CHECK (notify_state IN ('pending', 'sent', 'failed', 'none')),
        notify_attempts INTEGER NOT NULL DEFAULT 0,
        notify_next_at TEXT,
        notify_error TEXT,
        notified_at TEXT,
        UNIQUE (photo_id, image_id)
    );
    CREATE INDEX alerts_state ON alerts(state);
    CREATE INDEX alerts_notify ON alerts(notify_state, notify_next_at);

    -- "Not my photo": this (own photo, other image) pair never alerts again.
    CREATE TABLE suppressions (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        image_key TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (photo_id, image_key)
    );

    CREATE TABLE watches (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        listing_id INTEGER REFERENCES listings(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL,
        next_visit_at TEXT NOT NULL,
        last_visit_at TEXT,
        last_status TEXT,
        last_error TEXT,
        failures INTEGER NOT NULL DEFAULT 0
    );

    -- Pages as pushed or fetched, gzip-compressed, one row per distinct content.
    CREATE TABLE pages (
        id INTEGER PRIMARY KEY,
        listing_id INTEGER REFERENCES listings(id) ON DELETE CASCADE,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        html_gz BLOB NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (listing_id, sha256)
    );

    -- Capture at first sight: a matching competitor image as served, with its HTTP facts,
    -- kept for the evidence pack (the thumbnail alone would not prove what was shown).
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        image_id INTEGER NOT NULL UNIQUE REFERENCES images(id) ON DELETE CASCADE,
        url TEXT NOT NULL,
        content BLOB NOT NULL,
        sha256 TEXT NOT NULL,
        content_type TEXT,
        http_date TEXT,
        last_modified TEXT,
        etag TEXT,
        captured_at TEXT NOT NULL
    );
    """,
    # 2: the provenance ledger (provenance.ledger): an append-only, hash-chained, Ed25519-signed
    # log of registrations and first sightings. No foreign keys on purpose: an entry must
    # outlive the photo or image row it speaks of. Triggers refuse casual edits; deliberate
    # ones (with the triggers dropped) are what `picguard ledger verify` catches.
    """
    CREATE TABLE ledger_keys (
        key_id TEXT PRIMARY KEY,
        public_pem TEXT NOT NULL,
        created_at TEXT NOT NULL
    );

    CREATE TABLE ledger (
        seq INTEGER PRIMARY KEY,
        version INTEGER NOT NULL,
        time TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        sha256 TEXT,
        fp_digest TEXT,
        ref TEXT NOT NULL,
        key_id TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        entry_hash TEXT NOT NULL,
        signature TEXT NOT NULL
    );
    CREATE INDEX ledger_subject ON ledger(subject, kind);
    CREATE INDEX ledger_sha ON ledger(sha256);
    CREATE INDEX ledger_hash ON ledger(entry_hash);

    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the provenance ledger is append-only'); END;
    CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'the provenance ledger is append-only'); END;

    -- Each time the chain's head was sent through the seller's channels (external witness).
    CREATE TABLE ledger_witness (
        id INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL,
        head_hash TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        channels INTEGER NOT NULL,
        error TEXT
    );
    """,
)

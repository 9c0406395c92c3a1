"""The database schema as forward migrations; `daemon.store` applies them in order.

Each entry is one schema version. Never edit a released migration: append a new one.
"""

from __future__ import annotations

from daemon.store.schema_verdicts import MIGRATION_4_VERDICTS, MIGRATION_8_WITHDRAWN

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
    -- algorithm recompute them. `data` is Fingerprint.to_bytes() (all the hashes).
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
    # 3: third-party proof (provenance.timestamps, catalog.c2pa). RFC 3161 tokens over ledger
    # heads (the TSA's DER response, verified offline), the heads waiting for a TSA that could
    # not be reached (retried with backoff), and the C2PA content credentials of originals.
    """
    CREATE TABLE ledger_stamps (
        id INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL,
        head_hash TEXT NOT NULL,
        tsa_url TEXT NOT NULL,
        token BLOB NOT NULL,
        gen_time TEXT NOT NULL,
        serial TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (head_hash, tsa_url)
    );
    CREATE INDEX ledger_stamps_seq ON ledger_stamps(seq);

    CREATE TABLE ledger_stamp_queue (
        head_hash TEXT NOT NULL,
        seq INTEGER NOT NULL,
        tsa_url TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        PRIMARY KEY (head_hash, tsa_url)
    );

    ALTER TABLE photos ADD COLUMN c2pa_json TEXT;
    """,
    # 4: honest verdicts (issue 15): daemon/store/schema_verdicts.py
    MIGRATION_4_VERDICTS,
    # 5: discovery (issue 13). Every listing records the channel that first found it (and
    # every channel that has seen it, for per-channel coverage); every alert the channel of
    # the listing that raised it. Sweeps run by the extension in the seller's browser: a
    # sweep (what the seller or the schedule asked for) holds tasks (one marketplace page or
    # one image search each); each request handed out is logged for the politeness budget;
    # a block pauses that kind of sweep with backoff.
    """
    ALTER TABLE listings ADD COLUMN channel TEXT NOT NULL DEFAULT 'browsing';
    ALTER TABLE alerts ADD COLUMN channel TEXT;
    UPDATE alerts SET channel = (SELECT channel FROM listings WHERE id = alerts.listing_id);

    CREATE TABLE listing_channels (
        listing_id INTEGER NOT NULL REFERENCES listings(id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        PRIMARY KEY (listing_id, channel)
    );
    CREATE INDEX listing_channels_channel ON listing_channels(channel, first_seen);
    INSERT INTO listing_channels(listing_id, channel, first_seen, last_seen)
        SELECT id, 'browsing', first_seen, last_seen FROM listings WHERE status = 'ok';

    CREATE TABLE sweeps (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('image', 'keyword', 'store')),
        origin TEXT NOT NULL,
        created_at TEXT NOT NULL
    );

    CREATE TABLE sweep_tasks (
        id INTEGER PRIMARY KEY,
        sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('image', 'keyword', 'store')),
        marketplace TEXT NOT NULL DEFAULT 'aliexpress',
        photo_id INTEGER REFERENCES photos(id) ON DELETE CASCADE,
        keyword TEXT,
        page INTEGER,
        store_key TEXT,
        url TEXT,
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'running', 'done', 'blocked', 'failed')),
        -- when it may be handed out (again); NULL once it is finished for good
        due_at TEXT,
        handed_at TEXT,
        finished_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        blocks INTEGER NOT NULL DEFAULT 0,
        pages INTEGER NOT NULL DEFAULT 0,
        listings_total INTEGER NOT NULL DEFAULT 0,
        listings_new INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX sweep_tasks_due ON sweep_tasks(state, due_at);
    CREATE INDEX sweep_tasks_photo ON sweep_tasks(kind, photo_id);

    CREATE TABLE sweep_requests (
        id INTEGER PRIMARY KEY,
        task_id INTEGER,
        kind TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX sweep_requests_at ON sweep_requests(at);

    CREATE TABLE sweep_pauses (
        kind TEXT PRIMARY KEY,
        until TEXT NOT NULL,
        blocks INTEGER NOT NULL,
        reason TEXT,
        created_at TEXT NOT NULL
    );
    """,
    # 6: reverse matching without redundant work (monitor.pipeline.reverse_match): what the
    # forward pass of each image was compared with (catalog photos up to this id, at
    # this time), so a new photo is verified only against images it was never compared with.
    """
    ALTER TABLE images ADD COLUMN matched_photo_max INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE images ADD COLUMN matched_at TEXT;
    """,
    # 7: the channel that first found each competitor image (store.sweeps coverage), so
    # coverage per channel is one grouped count instead of a join over every listing's
    # images (the popup polls status).
    """
    ALTER TABLE images ADD COLUMN channel TEXT;
    UPDATE images SET channel = (
        SELECT lc.channel FROM listing_images li JOIN listing_channels lc
        ON lc.listing_id = li.listing_id WHERE li.image_id = images.id
        ORDER BY lc.first_seen LIMIT 1);
    CREATE INDEX images_channel ON images(channel, first_seen);
    """,
    # 8: withdrawn alerts (a newer matcher no longer finds the pair): schema_verdicts.py
    MIGRATION_8_WITHDRAWN,
)

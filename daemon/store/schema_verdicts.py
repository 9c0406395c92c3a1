"""Migrations 4 (issue 15) and 8 (withdrawn alerts), kept beside schema.py so that file
stays small: both rebuild the alerts table, whose CHECKs SQLite cannot loosen in place.

Honest verdicts: alerts may be `unclear` (neither side's time proves who was first) and keep
the facts behind their verdict (JSON). SQLite cannot loosen a CHECK in place, so the table is
rebuilt; `verdict_rules_version` 0 makes the daemon re-classify every existing alert with
daemon.monitor.verdict_rules on its next start. The indexes serve the dashboard's filtered
alert list (10,000 alerts in bench/dashboard.py).
"""

MIGRATION_4_VERDICTS = """
    CREATE TABLE alerts_v4 (
        id INTEGER PRIMARY KEY,
        match_id INTEGER NOT NULL REFERENCES matches(id) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        listing_id INTEGER REFERENCES listings(id) ON DELETE SET NULL,
        kind TEXT NOT NULL CHECK (kind IN ('copied', 'resembles', 'unclear')),
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
        verdict TEXT,
        UNIQUE (photo_id, image_id)
    );
    INSERT INTO alerts_v4(id, match_id, photo_id, image_id, listing_id, kind, state, own_time,
                          other_first_seen, created_at, updated_at, notify_state,
                          notify_attempts, notify_next_at, notify_error, notified_at)
        SELECT id, match_id, photo_id, image_id, listing_id, kind, state, own_time,
               other_first_seen, created_at, updated_at, notify_state, notify_attempts,
               notify_next_at, notify_error, notified_at FROM alerts;
    DROP TABLE alerts;
    ALTER TABLE alerts_v4 RENAME TO alerts;
    CREATE INDEX alerts_state ON alerts(state, id);
    CREATE INDEX alerts_kind ON alerts(kind, state, id);
    CREATE INDEX alerts_notify ON alerts(notify_state, notify_next_at);
    CREATE INDEX alerts_listing ON alerts(listing_id);
    CREATE INDEX alerts_image ON alerts(image_id);
    CREATE INDEX listings_marketplace ON listings(marketplace);
    INSERT INTO meta(key, value) VALUES ('verdict_rules_version', '0')
        ON CONFLICT(key) DO UPDATE SET value = '0';
"""

# Migration 8: alerts a newer matcher no longer supports are withdrawn, not left standing
# (monitor.alerts.review_alerts): state `withdrawn`, with the reason shown to the seller.
# The CHECK on state cannot be loosened in place, so the table is rebuilt as in 4.
MIGRATION_8_WITHDRAWN = """
    CREATE TABLE alerts_v8 (
        id INTEGER PRIMARY KEY,
        match_id INTEGER NOT NULL REFERENCES matches(id) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        listing_id INTEGER REFERENCES listings(id) ON DELETE SET NULL,
        kind TEXT NOT NULL CHECK (kind IN ('copied', 'resembles', 'unclear')),
        state TEXT NOT NULL DEFAULT 'new'
            CHECK (state IN ('new', 'confirmed', 'dismissed', 'withdrawn')),
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
        verdict TEXT,
        channel TEXT,
        withdrawn_reason TEXT,
        UNIQUE (photo_id, image_id)
    );
    INSERT INTO alerts_v8(id, match_id, photo_id, image_id, listing_id, kind, state, own_time,
                          other_first_seen, created_at, updated_at, notify_state,
                          notify_attempts, notify_next_at, notify_error, notified_at, verdict,
                          channel)
        SELECT id, match_id, photo_id, image_id, listing_id, kind, state, own_time,
               other_first_seen, created_at, updated_at, notify_state, notify_attempts,
               notify_next_at, notify_error, notified_at, verdict, channel FROM alerts;
    DROP TABLE alerts;
    ALTER TABLE alerts_v8 RENAME TO alerts;
    CREATE INDEX alerts_state ON alerts(state, id);
    CREATE INDEX alerts_kind ON alerts(kind, state, id);
    CREATE INDEX alerts_notify ON alerts(notify_state, notify_next_at);
    CREATE INDEX alerts_listing ON alerts(listing_id);
    CREATE INDEX alerts_image ON alerts(image_id);
"""

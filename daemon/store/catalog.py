"""SQL for the seller's catalog of originals: photos, shoots and their fingerprints."""

from __future__ import annotations

import json
from collections.abc import Iterator

from daemon.store.base import StoreBase
from daemon.timeutil import now_iso


class CatalogStore(StoreBase):
    """The seller's own photos."""

    def photo_shas(self) -> set[str]:
        """Every registered SHA-256, so a batch can skip known files before analysing them."""
        return {row["sha256"] for row in self._q("SELECT sha256 FROM photos")}

    def photo_by_sha(self, sha256: str) -> dict | None:
        return self._one("SELECT * FROM photos WHERE sha256 = ?", (sha256,))

    def add_photo(self, photo: dict, fingerprint: bytes, features: bytes | None,
                  fp_version: int, shoot: str | None = None) -> tuple[int, bool]:
        """Register an original with its fingerprint; (id, False) when the SHA-256 is known."""
        now = now_iso()
        with self.tx() as c:
            row = c.execute("SELECT id FROM photos WHERE sha256 = ?", (photo["sha256"],)).fetchone()
            if row:
                return row["id"], False
            shoot_id = None
            if shoot:
                c.execute(
                    "INSERT OR IGNORE INTO shoots(name, created_at) VALUES (?, ?)", (shoot, now)
                )
                shoot_id = c.execute("SELECT id FROM shoots WHERE name = ?", (shoot,)).fetchone()[0]
            cols = ["sha256", "path", "file_name", "size_bytes", "format", "width", "height",
                    "taken_at", "camera_make", "camera_model", "orientation", "has_gps"]
            values = [photo.get(k) for k in cols]
            exif = json.dumps(photo.get("exif") or {}, ensure_ascii=False, default=str)
            cur = c.execute(
                f"INSERT INTO photos({', '.join(cols)}, exif_json, shoot_id, registered_at) "
                f"VALUES ({', '.join('?' * len(cols))}, ?, ?, ?)",
                (*values, exif, shoot_id, photo.get("registered_at") or now),
            )
            photo_id = cur.lastrowid
            c.execute(
                "INSERT INTO fingerprints(photo_id, version, data, features, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (photo_id, fp_version, fingerprint, features, now),
            )
            return photo_id, True

    _PHOTO_COLS = (
        "p.id, p.sha256, p.path, p.file_name, p.size_bytes, p.format, p.width, p.height, "
        "p.taken_at, p.camera_make, p.camera_model, p.orientation, p.has_gps, "
        "p.registered_at, s.name AS shoot, p.c2pa_json"
    )

    def list_photos(self) -> list[dict]:
        return self._q(
            f"SELECT {self._PHOTO_COLS} FROM photos p LEFT JOIN shoots s ON s.id = p.shoot_id "
            "ORDER BY p.id"
        )

    def get_photo(self, photo_id: int) -> dict | None:
        return self._one(
            f"SELECT {self._PHOTO_COLS}, p.exif_json FROM photos p "
            "LEFT JOIN shoots s ON s.id = p.shoot_id WHERE p.id = ?",
            (photo_id,),
        )

    def shoot_photos(self, shoot: str) -> list[dict]:
        """Every photo of one shoot (the same-shoot series is evidence of ownership)."""
        return self._q(
            f"SELECT {self._PHOTO_COLS} FROM photos p JOIN shoots s ON s.id = p.shoot_id "
            "WHERE s.name = ? ORDER BY p.taken_at, p.id",
            (shoot,),
        )

    def count_photos(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM photos").fetchone()[0]

    def photo_fingerprints(self, since_id: int = 0) -> Iterator[dict]:
        """(photo_id, version, data, features) for every catalog photo, for loading indexes."""
        cur = self._conn().execute(
            "SELECT photo_id, version, data, features FROM fingerprints "
            "WHERE photo_id IS NOT NULL AND photo_id > ? ORDER BY photo_id",
            (since_id,),
        )
        for row in cur:
            yield dict(row)

    def photos_to_reverse_match(self, version: int, analysis_version: int,
                                limit: int = 100) -> list[dict]:
        """Catalog photos not yet matched against every competitor image with matcher
        `version`, whose stored analysis is of `analysis_version` (others wait for it)."""
        return self._q(
            "SELECT p.id, p.taken_at, p.registered_at, f.data, f.features FROM photos p "
            "JOIN fingerprints f ON f.photo_id = p.id "
            "WHERE p.reverse_matched_version < ? AND f.version = ? ORDER BY p.id LIMIT ?",
            (version, analysis_version, limit),
        )

    def photos_with_stale_fingerprints(self, version: int, limit: int = 50) -> list[dict]:
        """Photos analysed by another analysis version: recomputed from the original."""
        return self._q(
            "SELECT p.id, p.path, p.sha256 FROM photos p JOIN fingerprints f "
            "ON f.photo_id = p.id WHERE f.version != ? ORDER BY p.id LIMIT ?",
            (version, limit),
        )

    def update_photo_fingerprint(self, photo_id: int, fingerprint: bytes,
                                 features: bytes | None, version: int) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE fingerprints SET data = ?, features = ?, version = ?, created_at = ? "
                "WHERE photo_id = ?",
                (fingerprint, features, version, now_iso(), photo_id),
            )

    def set_photo_reverse_matched(self, photo_id: int, version: int) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE photos SET reverse_matched_version = ? WHERE id = ?", (version, photo_id)
            )

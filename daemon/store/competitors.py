"""SQL for the competitor image index and the reverse pass: what to index, what to verify,
and which (photo, image) pairs the forward pass has already compared."""

from __future__ import annotations

from daemon.store.base import StoreBase, dicts
from daemon.timeutil import now_iso

# An image's forward pass (matched against the in-memory catalog) covered photo P when it
# ran with the current matcher, after P was loaded (P's id <= matched_photo_max) and after
# P's fingerprint was last written (matched_at > the fingerprint's created_at: a photo
# whose fingerprint was upgraded was not in the matcher before that).
_COVERED = ("(i.matched_version = :version AND i.matched_photo_max >= :photo_id "
            "AND i.matched_at > :fp_created_at)")


class CompetitorStore(StoreBase):
    """Competitor images as the index and the reverse pass see them."""

    def fetched_image_ids(self) -> list[int]:
        """Ids of every fetched competitor image (what the index must hold)."""
        return [r["id"] for r in self._q("SELECT id FROM images WHERE status = 'fetched'")]

    def images_for_index(self, image_ids: list[int]) -> list[dict]:
        """(id, sha256, thumb, fingerprint blob, its version) to (re)index images from."""
        return self._in(
            "SELECT i.id, i.sha256, i.thumb, f.data, f.version FROM images i "
            "JOIN fingerprints f ON f.image_id = i.id WHERE i.status = 'fetched' AND i.id IN",
            image_ids)

    def _in(self, head: str, ids: list[int]) -> list[dict]:
        out: list[dict] = []
        for k in range(0, len(ids), 500):
            chunk = [int(i) for i in ids[k:k + 500]]
            out += self._q(f"{head} ({', '.join('?' * len(chunk))})", chunk)
        return out

    def fetched_image_ids_by_sha(self, sha256: str) -> list[int]:
        """Fetched images with exactly these bytes (the SHA-256 layer needs no index)."""
        return [r["id"] for r in self._q(
            "SELECT id FROM images WHERE sha256 = ? AND status = 'fetched'", (sha256,))]

    def set_image_matched_against(self, image_id: int, version: int, photo_max: int) -> None:
        """The forward pass matched an image against every catalog photo up to photo_max."""
        with self.tx() as c:
            c.execute(
                "UPDATE images SET matched_version = ?, matched_photo_max = ?, matched_at = ? "
                "WHERE id = ?", (version, photo_max, now_iso(), image_id))

    def photos_to_reverse_match_with_times(self, version: int, analysis_version: int,
                                           limit: int = 100) -> list[dict]:
        """photos_to_reverse_match, with when each fingerprint was written (for dedup)."""
        return self._q(
            "SELECT p.id, f.data, f.features, f.created_at AS fp_created_at FROM photos p "
            "JOIN fingerprints f ON f.photo_id = p.id "
            "WHERE p.reverse_matched_version < ? AND f.version = ? ORDER BY p.id LIMIT ?",
            (version, analysis_version, limit))

    def uncovered_images(self, image_ids: list[int], photo_id: int, fp_created_at: str,
                         version: int) -> list[dict]:
        """Of these images, the fetched ones whose forward pass did not compare them with
        the photo, with what verification needs (thumb, fingerprint blob, sha256)."""
        out: list[dict] = []
        for k in range(0, len(image_ids), 500):
            chunk = [int(i) for i in image_ids[k:k + 500]]
            params = {"version": version, "photo_id": photo_id, "fp_created_at": fp_created_at}
            params.update({f"i{n}": v for n, v in enumerate(chunk)})
            # named parameters: _q() takes a sequence only
            out += dicts(self._conn().execute(
                "SELECT i.id, i.sha256, i.thumb, f.data FROM images i "
                "JOIN fingerprints f ON f.image_id = i.id WHERE i.status = 'fetched' "
                f"AND i.id IN ({', '.join(f':i{n}' for n in range(len(chunk)))}) "
                f"AND NOT {_COVERED}", params))
        return out

    def count_uncovered_images(self, photo_id: int, fp_created_at: str, version: int) -> int:
        """How many fetched images the forward pass has not compared with the photo."""
        return self._conn().execute(
            f"SELECT COUNT(*) FROM images i WHERE i.status = 'fetched' AND NOT {_COVERED}",
            {"version": version, "photo_id": photo_id, "fp_created_at": fp_created_at},
        ).fetchone()[0]

    def images_for_verify(self, image_ids: list[int]) -> list[dict]:
        """Fetched images with their thumbnail, fingerprint blob and sha256 (check)."""
        return self._in(
            "SELECT i.id, i.sha256, i.thumb, f.data FROM images i "
            "JOIN fingerprints f ON f.image_id = i.id WHERE i.status = 'fetched' AND i.id IN",
            image_ids)

"""SQL for facts about originals added after registration: C2PA credentials, new locations."""

from __future__ import annotations

import json

from daemon.store.base import StoreBase


class PhotoFactsStore(StoreBase):
    """`photos.c2pa_json`: what the original's C2PA manifest says, or NULL when it has none."""

    def set_photo_c2pa(self, photo_id: int, credentials: dict | None) -> None:
        """Record (or clear) the content credentials of a catalog photo."""
        text = json.dumps(credentials, ensure_ascii=False, sort_keys=True) if credentials else None
        with self.tx() as c:
            c.execute("UPDATE photos SET c2pa_json = ? WHERE id = ?", (text, photo_id))

    def photo_c2pa(self, photo_id: int) -> dict | None:
        """The recorded credentials of one photo (None when it carried no manifest)."""
        row = self._one("SELECT c2pa_json FROM photos WHERE id = ?", (photo_id,))
        return json.loads(row["c2pa_json"]) if row and row["c2pa_json"] else None

    def relocate_photo(self, photo_id: int, path: str) -> None:
        """Point a catalog photo at a restored copy of its original (same bytes, new place)."""
        with self.tx() as c:
            c.execute("UPDATE photos SET path = ? WHERE id = ?", (path, photo_id))

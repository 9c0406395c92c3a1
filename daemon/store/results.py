"""SQL for a results page: every card stored as a listing, in bulk, in one transaction.

A results page brings 60 listings and some 360 images at once. Storing them one
`save_listing` at a time costs about 1,500 statements; here each step is one `executemany`
or one `IN (...)` query, so a push stays well inside its latency budget.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator

from daemon.store.base import StoreBase
from daemon.timeutil import now_iso

_CHUNK = 500  # bound variables per IN (...) list


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class ResultsStore(StoreBase):
    """Cards of results pages as listings: first seen, store, channel, queued images."""

    def _ids(self, c, sql: str, keys: Iterable[str]) -> dict[str, int]:
        """{key: id} for `sql` (`SELECT key, id ... IN ({marks})`) over chunks of keys."""
        found: dict[str, int] = {}
        keys = list(keys)
        for chunk in _chunks(keys):
            marks = ", ".join("?" * len(chunk))
            found.update((row[0], row[1]) for row in c.execute(sql.format(marks=marks), chunk))
        return found

    def save_result_cards(self, cards: list[dict], *, marketplace: str, channel: str,
                          page_url: str, source: str, html: str | None,
                          task_id: int | None = None) -> dict:
        """Store the cards of one results page; returns {listings_total, listings_new,
        images_total, images_new, page_stored}.

        A card is keyed like its item page (`<marketplace>:item:<id>`), so a card and the
        page of the same product are one listing. A known listing keeps its status and URL
        (a card proves it is listed, not what its page says); it gains last-seen times, a
        missing title or store, and the channel. Images are queued when new.
        """
        now = now_iso()
        page = None
        if html is not None:  # compressed before the write lock is taken
            raw = html.encode("utf-8", "surrogatepass")
            # level 1: a third of the time of level 6 for a 600 KB page, nearly the same size
            page = (hashlib.sha256(raw).hexdigest(), gzip.compress(raw, 1))
        with self.tx() as c:
            stores = {(card["store_id"], card.get("store_name"), card.get("store_url"))
                      for card in cards if card.get("store_id")}
            c.executemany(
                "INSERT INTO stores(marketplace, store_key, name, url, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(marketplace, store_key) DO UPDATE SET "
                "name = COALESCE(excluded.name, name), url = COALESCE(excluded.url, url), "
                "last_seen = excluded.last_seen",
                [(marketplace, sid, name, url, now, now) for sid, name, url in stores])
            store_ids = self._ids(
                c, "SELECT store_key, id FROM stores WHERE marketplace = '"
                + marketplace.replace("'", "''") + "' AND store_key IN ({marks})",
                {s[0] for s in stores})

            keys = [f"{marketplace}:item:{card['product_id']}" for card in cards]
            known = self._ids(c, "SELECT listing_key, id FROM listings "
                                 "WHERE listing_key IN ({marks})", keys)
            fresh = [(key, card) for key, card in zip(keys, cards, strict=True)
                     if key not in known]
            c.executemany(
                "INSERT OR IGNORE INTO listings(listing_key, marketplace, kind, product_id, "
                "store_id, url, canonical_url, title, status, first_seen, last_seen, channel) "
                "VALUES (?, ?, 'item', ?, ?, ?, ?, ?, 'ok', ?, ?, ?)",
                [(key, marketplace, card["product_id"], store_ids.get(card.get("store_id")),
                  card["url"], card["url"], card.get("title"), now, now, channel)
                 for key, card in fresh])
            c.executemany(
                "UPDATE listings SET last_seen = ?, store_id = COALESCE(store_id, ?), "
                "title = COALESCE(title, ?) WHERE id = ?",
                [(now, store_ids.get(card.get("store_id")), card.get("title"), known[key])
                 for key, card in zip(keys, cards, strict=True) if key in known])
            listing_ids = {**known, **self._ids(
                c, "SELECT listing_key, id FROM listings WHERE listing_key IN ({marks})",
                [key for key, _ in fresh])}
            c.executemany(
                "INSERT INTO listing_channels(listing_id, channel, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(listing_id, channel) DO UPDATE SET "
                "last_seen = excluded.last_seen",
                [(listing_ids[key], channel, now, now) for key in dict.fromkeys(keys)])

            refs = {ref["key"]: ref["url"] for card in cards for ref in card["images"]}
            seen = self._ids(c, "SELECT image_key, id FROM images WHERE image_key IN ({marks})",
                             list(refs))
            c.executemany(
                "INSERT INTO images(image_key, url, first_seen, last_seen, next_attempt_at, "
                "channel) VALUES (?, ?, ?, ?, ?, ?)",
                [(key, url, now, now, now, channel) for key, url in refs.items()
                 if key not in seen])
            c.executemany("UPDATE images SET last_seen = ? WHERE id = ?",
                          [(now, image_id) for image_id in seen.values()])
            image_ids = {**seen, **self._ids(
                c, "SELECT image_key, id FROM images WHERE image_key IN ({marks})",
                [key for key in refs if key not in seen])}
            c.executemany(
                "INSERT INTO listing_images(listing_id, image_id, role, position, first_seen, "
                "last_seen) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(listing_id, image_id) "
                "DO UPDATE SET last_seen = excluded.last_seen",
                [(listing_ids[key], image_ids[ref["key"]], ref.get("role") or "gallery", pos,
                  now, now)
                 for key, card in zip(keys, cards, strict=True)
                 for pos, ref in enumerate(card["images"])])

            page_stored = False
            if page is not None and not c.execute(
                    "SELECT 1 FROM pages WHERE listing_id IS NULL AND sha256 = ?",
                    (page[0],)).fetchone():
                c.execute("INSERT INTO pages(listing_id, url, source, sha256, html_gz, "
                          "received_at) VALUES (NULL, ?, ?, ?, ?, ?)",
                          (page_url, source, page[0], page[1], now))
                page_stored = True
            listings_new = len({key for key, _ in fresh})
            if task_id is not None:
                c.execute("UPDATE sweep_tasks SET listings_total = listings_total + ?, "
                          "listings_new = listings_new + ? WHERE id = ?",
                          (len(set(keys)), listings_new, task_id))
        return {"listings_total": len(set(keys)), "listings_new": listings_new,
                "images_total": sum(len(card["images"]) for card in cards),
                "images_new": len(refs) - len(seen), "page_stored": page_stored}

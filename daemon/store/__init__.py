"""The PicGuard database: SQLite (WAL, foreign keys, forward migrations).

This package owns all SQL; the rest of the daemon calls `Store` methods. The mixins split
it by subject so each file stays small.
"""

from __future__ import annotations

from daemon.store.alerts import ALERT_ACTIONS, ALERT_STATES, AlertStore
from daemon.store.base import StoreError
from daemon.store.catalog import CatalogStore
from daemon.store.competitors import CompetitorStore
from daemon.store.dashboard import DashboardStore
from daemon.store.ledger_entries import LedgerStore
from daemon.store.listings import ListingStore
from daemon.store.photo_facts import PhotoFactsStore
from daemon.store.results import ResultsStore
from daemon.store.sweeps import SweepStore
from daemon.store.timestamps import TimestampStore


class Store(CatalogStore, ListingStore, AlertStore, LedgerStore, TimestampStore, PhotoFactsStore,
            DashboardStore, SweepStore, CompetitorStore, ResultsStore):
    """Every table, through one object built once by the app factory or the CLI."""

    def status(self) -> dict:
        """Counts for `GET /api/v1/status` and the dashboard."""
        return {
            "catalog": {"photos": self.count_photos()},
            "listings": self.count_listings(),
            "images": self.image_counts(),
            "alerts": self.alert_counts(),
        }


__all__ = ["ALERT_ACTIONS", "ALERT_STATES", "Store", "StoreError"]

"""Dashboard routes for the proof page: the ledger's head, its last witness, and verifying it."""

from __future__ import annotations

from flask import Blueprint

from daemon.config import Settings
from daemon.provenance.ledger import Ledger, LedgerError
from daemon.store import Store
from daemon.web.security import ApiError
from daemon.web.validate import body


def create_proof_api(store: Store, settings: Settings) -> Blueprint:
    """`GET /ledger` (head, entries, last witness) and `POST /ledger/verify`."""
    bp = Blueprint("api_proof", __name__, url_prefix="/api/v1")

    def ledger() -> Ledger:
        return Ledger(store, settings.data_dir)

    @bp.get("/ledger")
    def head():
        try:
            current = ledger().head()
        except LedgerError as exc:
            raise ApiError(409, "ledger_error", str(exc)) from exc
        return {"head": current, "entries": store.ledger_count(),
                "last_witness": store.last_ledger_witness()}

    @bp.post("/ledger/verify")
    def verify():
        body()  # a JSON body, like every state-checking POST (CSRF rule)
        try:
            report = ledger().verify()
        except LedgerError as exc:
            raise ApiError(409, "ledger_error", str(exc)) from exc
        return report.to_dict()

    return bp

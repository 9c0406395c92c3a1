"""Provenance: the signed, hash-chained ledger of registrations and sightings."""

"""The seller's catalog of originals: registration with hashes, EXIF and analysis."""

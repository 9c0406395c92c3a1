"""Image matching: decoding, EXIF, fingerprints, local features, the compare rule, indexes."""

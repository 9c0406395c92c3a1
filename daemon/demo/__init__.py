"""`picguard demo`: a local stand-in shop with copycat listings, for trying PicGuard out."""

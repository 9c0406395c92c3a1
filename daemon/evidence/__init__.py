"""Evidence and dispute kit: the evidence pack, its report and the reply drafts (issue 7).

`build_pack`/`write_pack` make the ZIP; `EvidenceError` (and `GpsConsentNeeded`) say in
plain words why a pack cannot be made as asked.
"""

from daemon.evidence.facts import EvidenceError, GpsConsentNeeded, gps_files
from daemon.evidence.pack import PackResult, build_pack, write_pack

__all__ = ["EvidenceError", "GpsConsentNeeded", "PackResult", "build_pack", "gps_files",
           "write_pack"]

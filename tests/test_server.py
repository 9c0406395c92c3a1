"""`picguard serve` stops on SIGTERM promptly and cleanly, whatever waitress is doing."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import requests

from tests.daemon_support import Daemon


def test_sigterm_during_traffic_stops_the_daemon_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for attempt in range(5):
        daemon = Daemon(data_dir).start()
        # right after a request: SIGTERM then often lands while waitress closes the
        # connection, where a plain exception would be logged and swallowed
        assert requests.get(f"{daemon.url}/api/v1/ping", timeout=5).ok
        daemon.proc.send_signal(signal.SIGTERM)
        try:
            code = daemon.proc.wait(30)
        except subprocess.TimeoutExpired:
            daemon.proc.kill()
            raise AssertionError(f"attempt {attempt}: SIGTERM did not stop the daemon "
                                 f"within 30 s:\n{daemon.log()}") from None
        assert code == 0, daemon.log()
        assert "PicGuard stopped." in daemon.log()
        assert not (data_dir / "daemon.json").exists()

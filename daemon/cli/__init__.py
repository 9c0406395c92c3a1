"""The `picguard` command line: the group, and the command families attached to it.

Each family module (catalog, evidence, monitor, settings) defines plain click commands and
lists its top-level ones in COMMANDS; nothing imports this module back.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from daemon import __version__
from daemon.cli import backup, catalog, discovery, evidence, monitor, settings
from daemon.cli.common import data_dir_option


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="picguard")
@data_dir_option
def main(data_dir: Path | None) -> None:
    """PicGuard: proof and vigilance for sellers accused of stealing their own pictures.

    Register your original photos, let the browser extension push the listings you browse,
    and PicGuard tells you when your photos appear on other stores.
    """


for _family in (catalog, evidence, monitor, settings, backup, discovery):
    for _command in _family.COMMANDS:
        main.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

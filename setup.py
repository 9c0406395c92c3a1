"""Packaging shim: all metadata lives in setup.cfg.

The one build step: docs/openapi.yaml (the API's document, kept true by tests/test_openapi.py)
is copied into daemon/web/ in the build tree, so an installed daemon can serve it at
`/api/v1/openapi.json` without the checkout's docs/ folder.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithOpenAPI(build_py):
    """build_py plus docs/openapi.yaml -> <build>/daemon/web/openapi.yaml."""

    def run(self):
        super().run()
        source = Path(__file__).resolve().parent / "docs" / "openapi.yaml"
        target = Path(self.build_lib) / "daemon" / "web" / "openapi.yaml"
        if source.is_file() and target.parent.is_dir():
            shutil.copyfile(source, target)


setup(cmdclass={"build_py": BuildPyWithOpenAPI})

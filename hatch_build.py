"""Build hook: bundle the TypeScript front end (js/) into ftle_widget/static/widget.js.

A source checkout builds the bundle with Node.js and npm. An sdist carries the bundle built when
it was made (hatch's ``artifacts``), so installing one needs no Node.js.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

NO_NODE = (
    "ftle_widget: building from a source checkout needs Node.js (>= 18) and npm to bundle the "
    "front end in js/; install them (https://nodejs.org, `apt-get install nodejs npm`, "
    "`brew install node`, `conda install nodejs`) and run the install again, or install a "
    "released wheel or sdist, which carry the bundle"
)


class NodeMissing(RuntimeError):
    """Node.js or npm is needed and not on PATH."""


class FrontEndBuild(BuildHookInterface):
    PLUGIN_NAME = "frontend"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        js = root / "js"
        bundle = root / "ftle_widget" / "static" / "widget.js"
        if not (js / "package.json").exists():
            return  # building from a wheel's contents: the bundle is already there
        if (root / "PKG-INFO").exists() and bundle.exists():
            return  # an unpacked sdist: it carries the bundle built from these sources
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise NodeMissing(NO_NODE)
        if not (js / "node_modules" / ".package-lock.json").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)

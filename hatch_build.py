"""Build hook: bundle the TypeScript front end (js/) into ftle_widget/static/widget.js."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class FrontEndBuild(BuildHookInterface):
    PLUGIN_NAME = "frontend"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        js = root / "js"
        bundle = root / "ftle_widget" / "static" / "widget.js"
        if not (js / "package.json").exists():
            return  # building from a wheel's contents: the bundle is already there
        npm = shutil.which("npm")
        if npm is None:
            if bundle.exists():
                return
            raise RuntimeError(
                "building ftle_widget needs Node.js and npm to bundle its front end (js/): "
                "install them (e.g. apt-get install nodejs npm) and build again"
            )
        if not (js / "node_modules" / ".package-lock.json").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=js, check=True)
        subprocess.run([npm, "run", "build"], cwd=js, check=True)

"""FTLEView end to end in JupyterLab, in headless Chromium: a real kernel, comm and gestures."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

NOTEBOOK_CELLS = [
    "import torch\n"
    "from ftle_widget import FTLEView\n"
    "from ftle_widget.models import mlp\n"
    "model = mlp(2, 10, 4, 1, seed=0)\n"
    "view = FTLEView(model, vmin=-1.0, vmax=1.0)\n"
    "view",
]


def _notebook(cells: list[str]) -> dict:
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"c{k}", "metadata": {},
                   "outputs": [], "source": src} for k, src in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR",
                 "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "JUPYTERLAB_SETTINGS_DIR",
                 "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp_path_factory.mktemp(name.lower()))
    settings = os.path.join(env["JUPYTERLAB_SETTINGS_DIR"], "@jupyterlab", "apputils-extension")
    os.makedirs(settings)
    with open(os.path.join(settings, "notification.jupyterlab-settings"), "w") as f:
        json.dump({"fetchNews": "false", "checkForUpdates": False}, f)
    (root / "view.ipynb").write_text(json.dumps(_notebook(NOTEBOOK_CELLS)))
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.allow_root=True",
         f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("JupyterLab did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


KERNEL = """async (code) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({ code });
  let out = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.evalue;
  };
  await future.done;
  return out;
}"""

PIXELS = """() => {
  const c = document.querySelector('.ftle-widget canvas.ftle-field');
  if (!c || !c.width) return null;
  const bytes = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return [c.width, c.height, btoa(s)];
}"""


def _pixels(page):
    got = page.evaluate(PIXELS)
    if got is None:
        return None
    w, h, packed = got
    return np.frombuffer(base64.b64decode(packed), dtype=np.uint8).reshape(h, w, 4)


def _wait(predicate, timeout=60.0, step=0.2):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value is not None and value is not False:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def test_view_renders_zooms_and_pans_in_jupyterlab(lab, browser):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(f"{lab}/lab/tree/view.ipynb")
    page.wait_for_function(
        "window.jupyterapp && window.jupyterapp.shell.currentWidget && "
        "window.jupyterapp.shell.currentWidget.sessionContext.session && "
        "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
        "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=60_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_selector(".ftle-widget canvas.ftle-field", timeout=60_000)

    def drawn():
        image = _pixels(page)
        return image if image is not None and (image[:, :, 3] == 255).mean() > 0.95 else None

    image = _wait(drawn)
    colours = {tuple(c) for c in image[::17, ::17, :3].reshape(-1, 3)}
    assert len(colours) > 20  # a field, not a flat fill
    box = page.locator(".ftle-widget canvas.ftle-field").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)

    def zoomed():
        out = page.evaluate(KERNEL, "print(view.extent, view.progress)")
        extent = json.loads(out.split("]")[0] + "]")
        return extent if (extent[1] - extent[0]) < 2.9 else None

    extent = _wait(zoomed, timeout=30)
    # finer tiles arrive for the new view: progress reaches its total for it
    def refined():
        done, total = json.loads(
            page.evaluate(KERNEL, "import json; print(json.dumps(view.progress))"))
        return True if done == total > 0 else None

    _wait(refined, timeout=30)
    page.mouse.move(box["x"] + 300, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 400, box["y"] + 100, steps=5)
    page.mouse.up()

    def panned():
        out = page.evaluate(KERNEL, "import json; print(json.dumps(view.extent))")
        now = json.loads(out)
        return now if now[0] < extent[0] - 1e-6 else None

    _wait(panned, timeout=30)
    # a model that raises: its error shows in the widget, the kernel lives on
    page.evaluate(KERNEL, (
        "import torch\n"
        "class Broken(torch.nn.Module):\n"
        "    def __init__(s):\n"
        "        super().__init__()\n"
        "        s.lin, s.out = torch.nn.Linear(2, 10), torch.nn.Linear(10, 1)\n"
        "    def forward(s, x):\n"
        "        if x.shape[0] > 1: raise RuntimeError('broken on purpose')\n"
        "        return s.out(torch.tanh(s.lin(x)))\n"
        "view.update_model(Broken())\n"
    ))
    _wait(lambda: True if "broken on purpose" in page.evaluate(
        "document.querySelector('.ftle-status').textContent") else None, timeout=30)
    assert page.evaluate(KERNEL, "print(1 + 1)").strip() == "2"
    page.close()

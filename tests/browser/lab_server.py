"""A throwaway JupyterLab server for the browser tests, isolated from the user's own Jupyter setup.

It serves a folder of its own (the tests copy the notebooks there) on 127.0.0.1 with a random port
and token, and keeps its config, data, runtime, settings and workspace folders under that folder,
so nothing the user configured, trusted or left open changes what the tests see (committed
notebooks open untrusted). Kernel specs and lab extensions still come from the virtual
environment (``sys.prefix/share/jupyter``), which Jupyter searches whatever ``JUPYTER_DATA_DIR``
says. The folders of ``$JUPYTER_CONFIG_PATH`` still apply too: a ``labconfig/page_config.json`` there
with ``{"disabledExtensions": {"@jupyter-widgets/jupyterlab-manager": true}}`` shows the probe
test failing without the widget manager. Kernels inherit the server's environment, hence the
test scale and the Agg backend here.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 15

# User settings found by hand (issue 16): the news prompt only goes away with fetchNews "false";
# with the default cell windowing, cells off screen are not in the DOM and about one run in five
# timed out; autosave off keeps the served copies as committed; closing a notebook ends its kernel.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "kernelShutdown": True},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """``jupyter lab`` serving ``root``; `start` waits until its REST API answers, `stop` ends its process group."""

    def __init__(self, root: Path, home: Path):
        self.root, self.home = root, home
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.log = home / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path}{sep}token={self.token}"

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "SASR_LITE_DATA"}  # the synthetic benchmark only
        for name in ("config", "data", "runtime", "ipython"):
            (self.home / name).mkdir(parents=True, exist_ok=True)
        env.update(JUPYTER_CONFIG_DIR=str(self.home / "config"), JUPYTER_DATA_DIR=str(self.home / "data"),
                   JUPYTER_RUNTIME_DIR=str(self.home / "runtime"), IPYTHONDIR=str(self.home / "ipython"),
                   SASR_LITE_SCALE="test", MPLBACKEND="Agg")
        return env

    def _write_settings(self) -> Path:
        settings = self.home / "user-settings"
        for plugin, values in SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        return settings

    def start(self) -> None:
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={self._write_settings()}",
            f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: the tests run JupyterLab's own commands
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(command, env=self._environment(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"JupyterLab did not answer within {START_TIMEOUT_S} s; see {self.log}")

    def stop(self) -> None:
        """SIGTERM to the server's process group (the server then shuts its kernels down), SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

"""Do the lessons work where learners meet them: JupyterLab in a real (headless) browser?

Starts JupyterLab on loopback with a token, opens lesson 0 and the module 4 lesson in Debian's
Chromium through Playwright, runs every cell from the Run menu, waits for the kernel to finish,
and checks: no error output; the run-chart explorer's widgets render and react to the keyboard;
and nbgrader's JupyterLab extension puts its Validate button on an exercise notebook.
Screenshots go to test-artifacts/browser/. Autosave is switched off (in a private settings
directory) and checkpoints go to a temporary directory, so the run leaves the repository as it was.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "browser"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync"]
LESSON_0 = "course/00_getting_started.ipynb"
LESSON_4 = "course/04_measurement.ipynb"
EXERCISE = "exercises/m4_measurement/m4_measurement.ipynb"

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing and CI is set: install Debian's chromium (apt-get install chromium)",
                    pytrace=False)
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium to run the browser test", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api", reason="the Python playwright package is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server rooted at the repository; yields (base_url, token); killed at the end."""
    tmp = tmp_path_factory.mktemp("lab")
    settings = tmp / "settings"
    (settings / "@jupyterlab" / "docmanager-extension").mkdir(parents=True)
    # no autosave: running the lessons must not write outputs into the repository
    (settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings").write_text(
        json.dumps({"autosave": False}))
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), uuid.uuid4().hex
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), PYTHONUNBUFFERED="1")
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={REPO}",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
         # checkpoints (written when a notebook is opened) go to the temp dir, not next to the notebooks
         f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}",
         "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{(tmp / 'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start in 60 s:\n{(tmp / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base, token
    finally:
        # the server and its kernels share the session we started: stop that group only
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        log.close()


@pytest.fixture(scope="module")
def page(lab):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


_KERNEL_READY_JS = """(path) => {
    const app = window.jupyterapp;
    const w = app && app.shell.currentWidget;
    if (!w || !w.context || w.context.path !== path) return false;
    const k = w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""


def _open(page, lab, path: str) -> None:
    base, token = lab
    page.goto(f"{base}/lab/tree/{path}?token={token}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", state="visible")
    # wait until the notebook's kernel is started, connected and idle: a Run All clicked earlier is lost
    page.wait_for_function(_KERNEL_READY_JS, arg=path, timeout=90_000)


_STATE_JS = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return {prompts: [], status: null};
    const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
    const st = panel.querySelector('.jp-Notebook-ExecutionIndicator');
    return {prompts, status: st && st.getAttribute('data-status')};
}"""


def _run_all(page, name: str) -> None:
    """Run > Run All Cells, as a learner would, then wait until every code cell has run and the kernel is idle."""
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    deadline = time.monotonic() + 120
    while True:
        state = page.evaluate(_STATE_JS)
        done = state["prompts"] and all(p[1:-2].isdigit() for p in state["prompts"])
        if done and state["status"] == "idle":
            return
        if time.monotonic() > deadline:
            page.screenshot(path=str(ARTIFACTS / f"{name}_timeout.png"))
            raise AssertionError(f"{name}: cells did not all run within 120 s: {state}")
        page.wait_for_timeout(500)


def _errors(page) -> list[str]:
    """Text of every error output (a traceback) in the visible notebook."""
    return page.evaluate(
        """() => {
            const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const outs = [...panel.querySelectorAll(
                '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')];
            return outs.map(o => o.textContent).filter(t => /Traceback|Error/.test(t));
        }""")


def test_lesson_0_runs_in_the_browser(page, lab):
    """Does lesson 0 run top to bottom in JupyterLab without an error output?"""
    if not (REPO / LESSON_0).exists():
        pytest.skip(f"{LESSON_0} has not been written yet")
    _open(page, lab, LESSON_0)
    _run_all(page, "lesson0")
    page.screenshot(path=str(ARTIFACTS / "lesson0_after_run_all.png"), full_page=False)
    assert _errors(page) == []


def test_lesson_4_runs_and_its_explorer_reacts(page, lab):
    """Does lesson 4 run cleanly, and does the run-chart explorer redraw when a slider moves?"""
    _open(page, lab, LESSON_4)
    _run_all(page, "lesson4")
    assert _errors(page) == []

    summary = page.locator(".jupyter-widgets .qic-summary").first
    summary.scroll_into_view_if_needed()
    summary.wait_for(state="visible")
    slider = page.locator(".jupyter-widgets.widget-slider").first
    assert slider.is_visible()
    image = page.locator(".jupyter-widgets.widget-output img").last
    image.wait_for(state="visible")
    before_text, before_img = summary.inner_text(), image.get_attribute("src")
    page.screenshot(path=str(ARTIFACTS / "lesson4_explorer_before.png"))

    # "Points so far": take the last five weeks away with the keyboard, as a learner might
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function(
        "([sel, old]) => { const e = document.querySelector(sel); return e && e.innerText !== old; }",
        arg=[".jupyter-widgets .qic-summary", before_text], timeout=30_000)
    page.wait_for_function(
        "([old]) => { const imgs = [...document.querySelectorAll('.jupyter-widgets.widget-output img')];"
        " return imgs.length && imgs[imgs.length - 1].getAttribute('src') !== old; }",
        arg=[before_img], timeout=30_000)
    after_text = summary.inner_text()
    page.screenshot(path=str(ARTIFACTS / "lesson4_explorer_after.png"))
    assert after_text != before_text
    assert "Useful points" in after_text


def test_nbgrader_validate_button_on_an_exercise(page, lab):
    """Is nbgrader's JupyterLab extension loaded (Validate button in an exercise's toolbar)?"""
    _open(page, lab, EXERCISE)
    button = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar .validate-button")
    button.wait_for(state="visible", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "exercise_validate_button.png"))
    assert "Validate" in button.inner_text()

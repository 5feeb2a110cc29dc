"""The Voila demo in a real browser: serve a tiny run folder with `c2crs_demo`, type into the page with headless
chromium (Debian's package, driven by selenium), and check that recommendations appear and markup stays text.

Skips when chromium is missing, unless C2CRS_REQUIRE_BROWSER=1 (CI sets it, and installs chromium), then fails."""
import os, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

import pytest

from test_demo import ACTOR, tiny_run

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
REQUIRED = os.environ.get('C2CRS_REQUIRE_BROWSER') == '1'
SCREENSHOT = Path(tempfile.gettempdir()) / 'c2crs_demo_screenshot.png'
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--window-size=1400,1000']


def need(ok: bool, why: str):
    "Skip (or, with C2CRS_REQUIRE_BROWSER=1, fail) unless `ok`."
    if ok: return
    if REQUIRED: pytest.fail(f'{why}, and C2CRS_REQUIRE_BROWSER=1 (CI) says the browser test must run')
    pytest.skip(f'{why}: install it (apt-get install chromium chromium-driver) to run the browser test')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def wait_for(check, timeout: float, what: str, every: float = 0.5):
    "Poll `check()` until it returns something truthy; fail after `timeout` seconds."
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if (got := check()): return got
        time.sleep(every)
    pytest.fail(f'timed out after {timeout:.0f} s waiting for {what}')


@pytest.fixture
def browser():
    need(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), f'chromium or chromedriver not found ({CHROMIUM}, {CHROMEDRIVER})')
    try: from selenium import webdriver
    except ImportError: need(False, 'the selenium package is missing')
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix='c2crs-chromium-')
    for flag in FLAGS + [f'--user-data-dir={profile}']: opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    yield driver
    driver.quit(); shutil.rmtree(profile, ignore_errors=True)


def serve(command: list, log: Path):
    """Console script `command` (its name and flags) serving on a free localhost port (`--port`
    added): (process, url) once the page answers; `stop(process)` ends it."""
    port, out = free_port(), open(log, 'w')
    script = Path(sys.executable).parent / command[0]
    proc = subprocess.Popen([script, *command[1:], '--port', str(port)], stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}/'
    def up():
        if proc.poll() is not None:
            pytest.fail(f'{command[0]} exited ({proc.returncode}):\n' + log.read_text())
        try: return urllib.request.urlopen(url, timeout=5).status == 200
        except OSError: return False
    try: wait_for(up, 120, f'{command[0]} at {url}')
    except BaseException: stop(proc); raise
    return proc, url


def stop(proc):
    "End a process started by `serve`, and its children."
    os.killpg(proc.pid, signal.SIGTERM)
    try: proc.wait(20)
    except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait()


@pytest.fixture
def server(tmp_path):
    "`c2crs_demo` serving a tiny run folder on a free localhost port; yields the URL."
    proc, url = serve(['c2crs_demo', '--run_dir', tiny_run(tmp_path / 'run'), '--no_browser'],
                      tmp_path / 'voila.log')
    try: yield url
    finally: stop(proc)


def test_demo_in_browser(browser, server, tmp_path, capsys):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    start = time.perf_counter()
    browser.get(server)
    box = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '.widget-text input'), 180, 'the demo text box')[0]
    loaded = time.perf_counter() - start
    box.send_keys(f'hi! i like {ACTOR}, something scary <script>alert(1)</script>', Keys.ENTER)
    rows = wait_for(lambda: [r for r in browser.find_elements(By.CSS_SELECTOR, 'table.c2crs-topk tr')][1:], 60, 'recommendations')
    answered = time.perf_counter() - start
    assert len(rows) == 10 and all(r.text.split()[0].isdigit() for r in rows)
    page = browser.find_element(By.TAG_NAME, 'body').text
    assert f'nadia kowalski → {ACTOR}' in page and 'attention over context entities' in page and 'reply:' in page
    assert '<script>alert(1)</script>' in browser.find_element(By.CSS_SELECTOR, '.c2crs-transcript').text   # shown as text
    assert browser.execute_script("return document.querySelectorAll('.c2crs-transcript script').length") == 0
    browser.find_element(By.XPATH, "//button[normalize-space()='random']").click()
    wait_for(lambda: 'stage random' in browser.find_element(By.TAG_NAME, 'body').text, 60, 'the stage switch')
    shot = tmp_path / 'demo.png'
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    shutil.copy(shot, SCREENSHOT)
    with capsys.disabled(): print(f'\npage ready in {loaded:.1f} s, first answer shown at {answered:.1f} s; screenshot: {SCREENSHOT}')

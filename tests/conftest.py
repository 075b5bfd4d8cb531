"Shared test helpers: datasets under `AVATAR_ANOMALY_DATA` are skipped when absent, a failure when CI requires them; the browser tests' Chromium"
import importlib.util, os, signal, subprocess, sys
from contextlib import contextmanager
from pathlib import Path
import pytest
from avatar_anomaly.data import DataNotFoundError, dataset_path, data_required, data_root

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')
if data_root() is not None and (data_root().parent/'models').is_dir():   # the weight files beside the data (../shared/models)
    os.environ.setdefault('AVATAR_ANOMALY_WEIGHTS', str(data_root().parent/'models'))

def require_dataset(name):
    "Path of dataset `name`; skips the test when it is absent, fails it when `AVATAR_ANOMALY_REQUIRE_DATA=1`"
    try: return dataset_path(name)
    except DataNotFoundError as e:
        if data_required(): pytest.fail(f"{e} (AVATAR_ANOMALY_REQUIRE_DATA=1)")
        pytest.skip(str(e))

def require_reference():
    "The official-code fixtures folder (`../shared/reference` beside the data); skip or fail as for datasets"
    ref = data_root().parent/'reference' if data_root() else None
    if ref is not None and (ref/'fixtures').is_dir(): return ref
    msg = f"reference fixtures not found at {ref}: set AVATAR_ANOMALY_DATA to the data folder beside ../shared/reference"
    if data_required(): pytest.fail(msg)
    pytest.skip(msg)

CHROMIUM = Path('/usr/bin/chromium')   # Debian's `chromium` package, driven by Playwright through `executable_path` (never `playwright install`)
CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-gpu',
                 '--disable-quic']

def require_modules(*modules, # Python modules the test needs, e.g. 'voila', 'psutil'
                    browser:bool=False): # Chromium too
    "Skip (or fail, when data and tools are required) without one of `modules` (or Chromium)"
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if browser and not CHROMIUM.exists(): missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if missing:
        msg = f"the {'browser ' if browser else ''}test needs {', '.join(missing)}"
        if data_required(): pytest.fail(f"{msg} (AVATAR_ANOMALY_REQUIRE_DATA=1)")
        pytest.skip(msg)

def require_browser(*modules): # Python modules the test needs besides Chromium, e.g. 'playwright', 'voila'
    "Skip (or fail, when data and tools are required) without Chromium or one of `modules`"
    require_modules(*modules, browser=True)

@contextmanager
def cli_server(*argv, # an `avatar-anomaly` command that serves an app (`label ...`, `app`)
               env:dict|None=None): # its environment (default: ours)
    "Within: `(address, ended)`, `ended` holding the command's `pid`; on leaving, the server gets Ctrl-C (SIGINT) and `ended` holds its `returncode`, `out` and `err`"
    proc = subprocess.Popen([sys.executable, '-m', 'avatar_anomaly.cli', *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    ended = dict(pid=proc.pid)
    try:
        url = next((l.split()[1] for l in proc.stdout if l.startswith('open http')), None)
        assert url and url.startswith('http://127.0.0.1:'), f"no address printed:\n{proc.stderr.read() if proc.poll() is not None else ''}"
        yield url, ended
    finally:
        proc.send_signal(signal.SIGINT)
        try: out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired: proc.kill(); out, err = proc.communicate()
        ended.update(returncode=proc.returncode, out=out, err=err)

@contextmanager
def browser_page(url:str, # the page to open
                 width:int=900, height:int=800, # the viewport
                 wait_ms:int=120_000, # how long the first load may take (a kernel that imports torch)
                 before=None, # called with the page before it opens `url` (e.g. to listen to its requests)
                 args:list=()): # more Chromium flags (e.g. a fake camera)
    "Within: `(page, errors)`, a Chromium page (Playwright) at `url` and the page errors it reported"
    from playwright.sync_api import sync_playwright
    errors = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *args])
        try:
            page = browser.new_page(viewport=dict(width=width, height=height))
            page.on('pageerror', lambda e: errors.append(str(e)))
            if before: before(page)
            page.goto(url, timeout=wait_ms)
            yield page, errors
        finally: browser.close()

"A non-editable install works: the project's wheel (built offline, without build isolation: needs setuptools>=77 in the venv) ships the models and cards, and run from another folder, with the wheel's copy first on the path, its CLI runs the demo and predicts a face"
import fnmatch, os, re, shutil, subprocess, sys, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).parents[1]
PKG = ROOT/'avatar_anomaly'
EMOTIONS = 'surprise fear disgust happiness sadness anger neutral'.split()
NOT_SOURCE = shutil.ignore_patterns('.git', 'build', 'dist', '*.egg-info', '__pycache__', '_proc', '_docs', '.pytest_cache',
                                    '.ipynb_checkpoints', '.quarto', '.venv')
PIP_ENV = dict(os.environ, PIP_NO_INDEX='1', PIP_DISABLE_PIP_VERSION_CHECK='1')

def run(args, cwd, env=None) -> subprocess.CompletedProcess:
    "Run `args` in `cwd`, output captured as text, 600 s at most"
    return subprocess.run(list(map(str, args)), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)

def output(r) -> str: return f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"

@pytest.fixture(scope='module')
def built(tmp_path_factory) -> tuple[Path, str]:
    "The project's wheel, built once from a copy of the checkout (its build/ and egg-info stay untouched, no stale files ship), and the build's verbose log"
    tmp = tmp_path_factory.mktemp('wheel')
    src = shutil.copytree(ROOT, tmp/'src', ignore=NOT_SOURCE)
    r = run([sys.executable, '-m', 'pip', 'wheel', '-v', '--no-deps', '--no-build-isolation', src, '-w', tmp/'dist'], tmp, PIP_ENV)
    assert r.returncode == 0, f"pip wheel failed (the venv needs setuptools>=77):\n{output(r)}"
    whl, = (tmp/'dist').glob('avatar_anomaly-*.whl')
    return whl, r.stdout + r.stderr

@pytest.fixture(scope='module')
def wheel(built) -> Path: return built[0]

def absent_packages(log:str) -> list:
    "The packages a setuptools build log warns about as importable but absent from the `packages` configuration"
    return re.findall(r"Package '([\w.]+)' is absent from the `packages` configuration", log)

def test_absent_package_check_catches_a_fake():
    log = "build_py.py:215: _Warning: Package 'avatar_anomaly.apps' is absent from the `packages` configuration.\n!!"
    assert absent_packages(log) == ['avatar_anomaly.apps'] and absent_packages('copying avatar_anomaly/apps/check_app.ipynb') == []

def test_build_warns_of_no_absent_package(built):
    "The data folders (apps, cards, demo, models) are declared packages with their data: setuptools has nothing to warn a user about"
    assert not absent_packages(built[1]), f"setuptools warns that these are absent from `packages`: {absent_packages(built[1])}"

@pytest.fixture(scope='module')
def site(wheel) -> Path:
    "A folder the wheel is installed into (`pip install --target`)"
    site = wheel.parents[1]/'site'
    r = run([sys.executable, '-m', 'pip', 'install', '--no-deps', '--target', site, wheel], wheel.parent, PIP_ENV)
    assert r.returncode == 0, f"pip install --target failed:\n{output(r)}"
    return site

@pytest.fixture(scope='module')
def env(site) -> dict:
    "Environment where the installed wheel wins over the editable install"
    return dict(os.environ, PYTHONPATH=str(site), HF_HUB_OFFLINE='1', MPLBACKEND='Agg')

@pytest.fixture
def cwd(tmp_path) -> Path:
    "A folder outside the checkout to run from"
    assert ROOT.resolve() not in (tmp_path.resolve(), *tmp_path.resolve().parents), f"{tmp_path} is inside the checkout"
    return tmp_path

def cli_works_as_module(env, cwd) -> bool:
    "Whether `python -m avatar_anomaly.cli` runs the CLI (needs `if __name__ == '__main__'` in cli.py)"
    r = run([sys.executable, '-m', 'avatar_anomaly.cli', '--version'], cwd, env)
    return r.returncode == 0 and r.stdout.startswith('avatar-anomaly ')

@pytest.fixture(scope='module')
def cli_cmd(site, env, tmp_path_factory) -> list:
    "The installed CLI: `python -m avatar_anomaly.cli`, else the wheel's console script"
    if cli_works_as_module(env, tmp_path_factory.mktemp('probe')): return [sys.executable, '-m', 'avatar_anomaly.cli']
    script = site/'bin'/'avatar-anomaly'
    assert script.exists(), f"neither `python -m avatar_anomaly.cli` nor {script} runs the CLI"
    return [script]

def test_wheel_ships_models_and_cards(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for pat in ('avatar_anomaly/models/*.json', 'avatar_anomaly/models/*.safetensors', 'avatar_anomaly/cards/*.json', 'avatar_anomaly/apps/*.ipynb',
                'avatar_anomaly/apps/voila/templates/*/*', 'avatar_anomaly/demo/*.jpg', 'avatar_anomaly/demo/*.md'):
        assert fnmatch.filter(names, pat), f"{wheel.name} has no {pat}"
    shipped = {p.relative_to(ROOT).as_posix() for pat in ('models/*.json', 'models/*.safetensors', 'cards/*.json', 'apps/*.ipynb', 'apps/voila/templates/*/*',
                                                          'demo/*.jpg', 'demo/*.md')
               for p in PKG.glob(pat)}
    assert not shipped - set(names), f"{wheel.name} lacks {sorted(shipped - set(names))}"

def test_import_from_wheel(site, env, cwd):
    r = run([sys.executable, '-c', 'import avatar_anomaly, sys; print(avatar_anomaly.__file__)'], cwd, env)
    assert r.returncode == 0, output(r)
    path = Path(r.stdout.strip()).resolve()
    assert site.resolve() in path.parents, f"avatar_anomaly imported from {path}, not from the wheel in {site}"

def test_python_m_runs_the_cli(env, cwd):
    assert cli_works_as_module(env, cwd), "`python -m avatar_anomaly.cli --version` does not print the version: cli.py needs `if __name__ == '__main__'`"

def test_demo(cli_cmd, env, cwd):
    r = run([*cli_cmd, 'demo', '--out', 'demo.png'], cwd, env)
    assert r.returncode == 0, output(r)
    assert (cwd/'demo.png').exists(), f"demo wrote no demo.png in {cwd}:\n{output(r)}"
    assert 'ANOMALY' in r.stdout and 'consistent' in r.stdout, output(r)

def test_predict(cli_cmd, env, cwd):
    from PIL import Image
    from skimage.data import astronaut
    Image.fromarray(astronaut()).save(cwd/'astronaut.png')
    r = run([*cli_cmd, 'predict', 'astronaut.png'], cwd, env)
    assert r.returncode == 0, output(r)
    lines = [l for l in r.stdout.splitlines() if 'astronaut.png' in l]
    assert len(lines) == 1, f"expected one line for astronaut.png:\n{output(r)}"
    assert set(lines[0].split()) & set(EMOTIONS), f"no emotion in the predict line: {lines[0]!r}"

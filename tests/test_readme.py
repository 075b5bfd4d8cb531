"README.md is index.ipynb rendered: every prose and code cell of the notebook appears in it (Quarto's nbdev-readme cannot run here)"
import json
from pathlib import Path

ROOT = Path(__file__).parents[1]

def test_readme_in_sync_with_index():
    readme = (ROOT/'README.md').read_text()
    cells = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    for c in cells:
        src = ''.join(c['source'])
        if src.startswith('#| hide'): continue
        for line in src.splitlines():
            line = line.removeprefix('> ')
            assert line in readme, f"README.md lacks this line of nbs/index.ipynb (regenerate README): {line!r}"

def test_readme_shows_install_and_tests():
    readme = (ROOT/'README.md').read_text()
    assert 'pip install -e ".[dev]"' in readme and '\npytest\n' in readme

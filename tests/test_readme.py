"README.md is index.ipynb rendered: every prose and code cell of the notebook appears in it (Quarto's nbdev-readme cannot run here)"
import importlib.util, json, re
from pathlib import Path

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location('render_readme', ROOT/'tools'/'render_readme.py')
rr = importlib.util.module_from_spec(spec); spec.loader.exec_module(rr)

def test_readme_in_sync_with_index():
    readme = (ROOT/'README.md').read_text()
    cells = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    for c in cells:
        src = ''.join(c['source'])
        if src.startswith('#| hide'): continue
        if c['cell_type'] == 'markdown': src = rr.prose(src)
        for line in src.splitlines():
            line = line.removeprefix('> ')
            assert line in readme, f"README.md lacks this line of nbs/index.ipynb (regenerate README): {line!r}"

def test_readme_shows_install_and_tests():
    readme = (ROOT/'README.md').read_text()
    assert 'pip install -e ".[dev]"' in readme and '\npytest\n' in readme

def test_readme_links_resolve():
    "Every local link and image of README.md names a file of the repository"
    readme = (ROOT/'README.md').read_text()
    local = [l for l in re.findall(r'\]\(([^)\s]+)\)', readme) if not re.match(r'[a-z]+:|#', l)]
    assert local and [l for l in local if not (ROOT/l.split('#')[0]).exists()] == []

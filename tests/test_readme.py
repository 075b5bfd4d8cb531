"README.md is index.ipynb rendered: every prose and code cell of the notebook appears in it (Quarto's nbdev-readme cannot run here), and its headline figures are the cards'"
import copy, importlib.util, json, re, tomllib
from pathlib import Path
import avatar_anomaly.results as results

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location('render_readme', ROOT/'tools'/'render_readme.py')
rr = importlib.util.module_from_spec(spec); spec.loader.exec_module(rr)

def test_readme_in_sync_with_index():
    readme = (ROOT/'README.md').read_text()
    cells = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    for c in cells:
        src = ''.join(c['source'])
        d = rr.directives(src) if c['cell_type'] == 'code' else {}
        if 'hide' in d: continue
        if c['cell_type'] == 'markdown': src = rr.prose(src)
        elif d.get('echo') == 'false': src = ''
        if d.get('output') == 'asis': src += '\n' + rr.prose(''.join(rr.output_text(o) for o in c['outputs']))
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

def headline_in(readme:str, rows:list) -> bool:
    "Whether `readme` shows the headline table of `rows` (`results.headline()`), as the README renders it"
    return rr.prose(results.headline_markdown(rows)) in readme

def test_headline_is_the_cards():
    "Issue 29: the README's headline figures are the cards' (rerun `python tools/render_readme.py` when a card changes)"
    rows = results.headline()
    assert 0 < len(rows) <= 8 and headline_in((ROOT/'README.md').read_text(), rows), \
        "README.md's headline table differs from the cards: run python tools/render_readme.py"
    index = json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells']
    stored = [rr.output_text(o) for c in index if 'headline_markdown' in ''.join(c['source']) for o in c['outputs']]
    assert stored == [results.headline_markdown(rows) + '\n'], "nbs/index.ipynb's stored headline differs from the cards"

def test_headline_check_catches_a_fake(monkeypatch):
    "A card whose figure changed (the live speed) makes the README's headline disagree"
    live = copy.deepcopy(results.card('live')); live['benchmarks']['speed']['pairs_per_s'] += 1
    card = results.card
    monkeypatch.setattr(results, 'card', lambda name: live if name == 'live' else card(name))
    rows = results.headline()
    assert f"{live['benchmarks']['speed']['pairs_per_s']} frame pairs/s" in results.headline_markdown(rows)
    assert not headline_in((ROOT/'README.md').read_text(), rows)

def test_no_address_that_does_not_exist():
    "Issue 29: no published site nor repository exists, so neither the README, the package metadata nor the docs settings name one"
    assert 'urls' not in tomllib.loads((ROOT/'pyproject.toml').read_text())['project']
    for f in ['README.md', 'nbs/nbdev.yml']:
        assert not re.search(r'https?://[^\s)]*avatar[-_]anomaly', (ROOT/f).read_text()), f

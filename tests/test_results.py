"The Results chapter (nbs/95_results.ipynb) shows the cards as they are: its stored tables are what it shows when run now"
import copy, importlib.util, json
from pathlib import Path
import pytest

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location('render_readme', ROOT/'tools'/'render_readme.py')
rr = importlib.util.module_from_spec(spec); spec.loader.exec_module(rr)

@pytest.fixture(scope='module')
def fresh(): return rr.fresh_outputs(rr.RESULTS)

def test_results_page_shows_the_cards(fresh):
    "Issue 29: a card changed and the page was not rerun? then `python tools/render_readme.py`"
    nb = json.loads(rr.RESULTS.read_text())
    assert rr.stale_cells(nb, fresh) == [], "stored outputs differ from the cards: run python tools/render_readme.py"
    assert sum('text/html' in o.get('data', {}) for outs in fresh.values() for o in outs) >= 10   # the tables are there

def test_stale_check_catches_a_fake(fresh):
    "A stored table with one figure changed is reported by its cell"
    nb = json.loads(rr.RESULTS.read_text())
    c = next(c for c in nb['cells'] if any('text/html' in o.get('data', {}) for o in c.get('outputs', [])))
    o = next(o for o in c['outputs'] if 'text/html' in o.get('data', {}))
    html = ''.join(o['data']['text/html']); cell = html.index('<td>') + 4
    o['data']['text/html'] = html[:cell] + '9' + html[cell:]
    assert rr.stale_cells(nb, fresh) == [c['id']]

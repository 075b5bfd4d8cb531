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

def test_refresh_chapter_stores_what_shown_cells_show_now(tmp_path):
    "`render_readme.py --also NB`: a cell that shows a figure shows the one it gives now; a cell that shows nothing, and stderr, stay out"
    def cell(i, src, outputs=None):
        return dict(cell_type='code', id=i, metadata={}, source=src, execution_count=None, outputs=outputs or [])
    old = [dict(name='stdout', output_type='stream', text=['3\n'])]
    nb = dict(cells=[cell('a', 'import sys\nprint(1 + 1); print("slow", file=sys.stderr)', old), cell('b', 'print("quiet")')],
              metadata={}, nbformat=4, nbformat_minor=5)
    f = tmp_path/'chapter.ipynb'; f.write_text(json.dumps(nb))
    rr.refresh_chapter(f)
    cells = {c['id']: c['outputs'] for c in json.loads(f.read_text())['cells']}
    assert cells == {'a': [dict(name='stdout', output_type='stream', text=['2\n'])], 'b': []}

"""The documentation site (tools/build_docs.py): notebook cleaning on small notebooks, then one offline build, checked as HTML and
in headless Chromium. The build and browser tests skip when Sphinx/myst-nb or Chromium are missing, and fail then in CI
(`AVATAR_ANOMALY_REQUIRE_DATA=1`)."""
import ast, html, importlib.util, json, os, re, subprocess, sys, threading
from collections import Counter
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from nbdev.doclinks import nbpath2html
from avatar_anomaly.data import data_required
from conftest import CHROMIUM, CHROMIUM_ARGS
from test_house import MACHINE_PATH

ROOT = Path(__file__).parents[1]

spec = importlib.util.spec_from_file_location('build_docs', ROOT/'tools'/'build_docs.py')
bd = importlib.util.module_from_spec(spec); spec.loader.exec_module(bd)

def require(*modules, chromium=False):
    "Skip when a docs tool (Python `modules`, Chromium) is missing; fail when `AVATAR_ANOMALY_REQUIRE_DATA=1`"
    missing = [m for m in modules if importlib.util.find_spec(m) is None] + ([str(CHROMIUM)] if chromium and not CHROMIUM.exists() else [])
    if not missing: return
    msg = f"docs tools missing: {', '.join(missing)} (pip install -e \".[docs]\"; apt-get install -y chromium chromium-driver)"
    if data_required(): pytest.fail(f"{msg} (AVATAR_ANOMALY_REQUIRE_DATA=1)")
    pytest.skip(msg)

def code(src, outputs=(), metadata=None, **kw):
    return dict(cell_type='code', id='c', metadata=metadata or {}, source=src, execution_count=1, outputs=list(outputs), **kw)
def md(src): return dict(cell_type='markdown', id='m', metadata={}, source=src)
def nb(*cells, **meta): return dict(nbformat=4, nbformat_minor=5, metadata=meta, cells=list(cells))
def sources(n): return [''.join(c['source']) for c in n['cells']]

# ---- cleaning (no docs tools needed, except nbformat for the schema check)

def test_clean_gives_valid_nbformat():
    "nbdev's `has_sd` and float `metadata.execution`, and embedded widget state, are dropped; the result passes nbformat"
    execution = {'iopub.execute_input': '2026-12-01T09:23:20.69+00:00', 'total': 0.0039}
    n = bd.clean_nb(nb(code('#| echo: false\nshow_doc(f)', has_sd=True, metadata={'execution': execution}),
                       execution=execution, widgets={'application/vnd.jupyter.widget-state+json': {'state': {}}}))
    c = n['cells'][0]
    assert 'has_sd' not in c and 'execution' not in c['metadata']
    assert 'execution' not in n['metadata'] and 'widgets' not in n['metadata']
    require('nbformat')
    import nbformat
    nbformat.validate(nbformat.from_dict(n))

@pytest.mark.parametrize('directive, tag', [('#| echo: false', 'remove-input'), ('#| hide', 'remove-cell'),
                                            ('#| include: false', 'remove-cell'), ('#| output: false', 'remove-output')])
def test_directive_becomes_tag(directive, tag):
    c, = bd.clean_nb(nb(code(f"{directive}\nx = 1")))['cells']
    assert c['metadata']['tags'] == [tag] and c['source'] == 'x = 1'

def test_no_directive_line_survives():
    n = bd.clean_nb(nb(code('#| export\n#|eval: false\n#|\ndef f(): pass\n#| code-fold: true\n'), code('#| default_exp mod')))
    assert sources(n) == ['def f(): pass\n']   # the directive-only cell is gone too
    assert 'tags' not in n['cells'][0]['metadata']   # nothing to hide

def test_asis_output_becomes_markdown():
    "show_doc's `output: asis` markdown is page text (its headings are the page's), without its leading rule"
    out = dict(output_type='execute_result', execution_count=1, metadata={},
               data={'text/markdown': ['---\n', '\n', '### f\n', '\n', '*Doc of f*'], 'text/plain': ['<ShowDoc>']})
    n = bd.clean_nb(nb(code('#| echo: false\n#| output: asis\nshow_doc(f)', [out], has_sd=True)))
    assert [c['cell_type'] for c in n['cells']] == ['markdown'] and sources(n) == ['\n### f\n\n*Doc of f*']

def test_callouts_become_admonitions():
    n = bd.clean_nb(nb(md('Before\n\n::: {.callout-note}\nA note with `code`.\n:::\n'),
                       md(':::: {.callout-warning title="Careful"}\nText\n::::'),
                       md('::: {.callout-tip}\n## A tip\nText\n:::')))
    assert sources(n) == ['Before\n\n:::{note}\nA note with `code`.\n:::\n',
                          '::::{admonition} Careful\n:class: warning\nText\n::::',
                          ':::{admonition} A tip\n:class: tip\nText\n:::']

def test_yaml_frontmatter_becomes_title():
    "nbdev's `_proc` frontmatter: a raw YAML cell"
    raw = dict(cell_type='raw', id='r', metadata={}, source="---\ndescription: 'What it does'\noutput-file: mod.html\ntitle: Mod\n\n---\n\n")
    n = bd.clean_nb(nb(raw, md('Text')))
    assert sources(n) == ['# Mod\n\n{.lead}\nWhat it does', 'Text']

def test_markdown_frontmatter_becomes_title():
    "A notebook's own frontmatter: `# Title` and `> summary` in its first markdown cell (after code such as `default_exp`)"
    n = bd.clean_nb(nb(code('#| default_exp mod'), md('# Mod\n> What it does\n\nMore text'), md('Text')))
    assert sources(n) == ['# Mod\n\n{.lead}\nWhat it does', 'More text', 'Text']   # the directive-only cell is gone

def test_sidebar_order(tmp_path):
    (tmp_path/'sidebar.yml').write_text('website:\n  sidebar:\n    contents:\n      - index.ipynb\n      - section: Models\n'
                                        '        contents: [01_b.ipynb, 02_c.ipynb]\n      - 90_cli.ipynb\n')
    assert bd.sidebar_notebooks(tmp_path/'sidebar.yml') == ['index.ipynb', '01_b.ipynb', '02_c.ipynb', '90_cli.ipynb']
    assert [bd.page_name(n) for n in ['index.ipynb', '03b_avatars.ipynb']] == ['index', 'avatars']

def cut_summary(cells:list) -> list:
    "The lines that continue a notebook's `> summary` (nbdev keeps the first `>` line as the page's description and drops the rest)"
    for c in cells:
        if c['cell_type'] != 'markdown': continue
        lines = ''.join(c['source']).splitlines()
        i = next((i for i, l in enumerate(lines) if l.startswith('>')), None)
        if not lines or not lines[0].startswith('# ') or i is None: return []
        rest = lines[i + 1:]
        return rest[:next((j for j, l in enumerate(rest) if not l.startswith('>')), len(rest))]
    return []

def test_cut_summary_check_catches_a_fake():
    assert cut_summary([md('# T\n> one line,\n> and a second\n\nText')]) == ['> and a second']
    assert cut_summary([code('#| default_exp m'), md('# T\n> one line\n\n> a quote later')]) == []

def test_summaries_are_one_line():
    "Each notebook's `> summary` is one line: the page's lead (and the module docstring) would lose the rest"
    cut = {nb.name: lines for nb in sorted((ROOT/'nbs').glob('*.ipynb')) if (lines := cut_summary(json.loads(nb.read_text())['cells']))}
    assert not cut, f"summaries continued on more `>` lines, which nbdev drops: {cut}"

NAN_PENDING = {'02a_predict.ipynb'}   # its readers' tables are being rewritten on another branch: blank their empty cells there

def nan_cells(cells:list) -> list:
    "Ids of the code cells whose stored HTML tables show a `NaN` cell (an empty cell should be blank, or a count 0)"
    return [c.get('id') for c in cells for o in c.get('outputs', []) if re.search(r'<td>\s*NaN\s*</td>', ''.join(o.get('data', {}).get('text/html', '')))]

def test_nan_check_catches_a_fake():
    html_out = lambda cell: dict(output_type='execute_result', data={'text/html': [cell]})
    assert nan_cells([code('t', [html_out('<tr><th>x</th><td>NaN</td></tr>')]), code('u', [html_out('<td></td><td>0.5</td>')])]) == ['c']

def test_tables_show_no_nan():
    "Tables in stored outputs show no `NaN` cells where nothing applies"
    found = {nb.name: ids for nb in sorted((ROOT/'nbs').glob('*.ipynb')) if nb.name not in NAN_PENDING and (ids := nan_cells(json.loads(nb.read_text())['cells']))}
    assert not found, f"stored tables with NaN cells (notebook: cell ids): {found}"

# ---- the site, built once

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site built into a temporary folder with `--check` (no notebook errors, no Sphinx warnings); its html folder"
    require('sphinx', 'myst_nb', 'sphinx_book_theme')
    out = tmp_path_factory.mktemp('docs')
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--out', str(out), '--check'],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"docs build failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return out/'html'

def page_of(nb_name): return nbpath2html(nb_name).name
def text_of(page): return html.unescape(re.sub(r'<[^>]+>', '', page))
def headings(page): return {text_of(h).rstrip('#').strip() for h in re.findall(r'<h[1-6][^>]*>(.*?)</h[1-6]>', page, re.S)}

def test_every_sidebar_notebook_has_a_page(site):
    for name in bd.sidebar_notebooks():
        f = site/page_of(name)
        assert f.exists(), f"no page for nbs/{name}"
        page = f.read_text()
        assert re.search(r'<title>\s*\S', page), f"{f.name}: no <title>"
        assert re.search(r'<article class="bd-article">.*?<h1', page, re.S), f"{f.name}: no H1 in the article"

def test_pages_are_valid_nbformat(site):
    "What Sphinx read: the cleaned notebooks pass the nbformat 4 schema"
    import nbformat
    read = sorted((site.parent/'src').glob('*.ipynb'))
    assert {f.stem for f in read} == {'index', *(bd.page_name(n) for n in bd.sidebar_notebooks() if n != 'index.ipynb')}, "the site's sources are not the sidebar's notebooks"
    for f in read: nbformat.validate(nbformat.read(f, as_version=4))

def test_no_directive_on_any_page(site):
    bad = [f.name for f in site.glob('*.html') if '#|' in text_of(f.read_text())]
    assert not bad, f"pages showing `#|` lines: {bad}"

def test_no_network_and_no_widget_state(site):
    "Pages load nothing from outside the site (no CDN) and embed no widget state"
    for f in site.glob('*.html'):
        page = f.read_text()
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', page), f.name
        assert 'widget-state+json' not in page, f.name

def exported(py):
    "Functions and classes in the `__all__` of the module file `py`"
    tree = ast.parse(py.read_text())
    names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, 'id', None) == '__all__' for t in n.targets)), [])
    defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return [n for n in names if n in defs]

def module_pages():
    "{module: its page}, from the notebooks' `default_exp`"
    return {m[1]: page_of(nb) for nb in (ROOT/'nbs').glob('*.ipynb') if (m := re.search(r'#\|\s*default_exp\s+([\w.]+)', nb.read_text()))}

def test_exported_names_have_headings(site):
    "nbdev's show_doc gives every exported function and class a heading (and anchor) on its module's page"
    pages = module_pages()
    for py in sorted((ROOT/'avatar_anomaly').glob('*.py')):
        if py.stem in ('__init__', '_modidx'): continue
        assert py.stem in pages, f"no notebook exports avatar_anomaly.{py.stem}"
        assert (site/pages[py.stem]).exists(), f"avatar_anomaly.{py.stem} has no page: is its notebook in nbs/sidebar.yml?"
        page = (site/pages[py.stem]).read_text()
        missing = [n for n in exported(py) if n not in headings(page) and f'id="{n}"' not in page]
        assert not missing, f"{pages[py.stem]} has no heading for {missing}"

def test_images_appear(site):
    "Every image a page shows is in the site, and every `images/...` a notebook's prose references is shown on its page"
    for f in site.glob('*.html'):
        for src in re.findall(r'<img[^>]+src="([^"]+)"', f.read_text()):
            assert (site/src).exists(), f"{f.name}: {src} missing"
    for name in bd.sidebar_notebooks():
        prose = ''.join(''.join(c['source']) for c in json.loads((ROOT/'nbs'/name).read_text())['cells'] if c['cell_type'] == 'markdown')
        for img in re.findall(r'\(images/([^)\s]+)\)|src="images/([^"]+)"', prose):
            assert f'images/{"".join(img)}"' in (site/page_of(name)).read_text(), f"{page_of(name)} lacks images/{''.join(img)}"

def article(page:str) -> str:
    "The page's article: its own content, without the theme's navigation, header and print-only copy of the title"
    m = re.search(r'<article class="bd-article">(.*?)</article>', page, re.S)
    return m[1] if m else ''

def test_headings_are_unique(site):
    "No heading repeats on a page (a prose section named after the function that `show_doc` heads again doubles search results)"
    dup = {f.name: d for f in sorted(site.glob('*.html'))
           if (d := [h for h, n in Counter(text_of(h).rstrip('#').strip() for h in re.findall(r'<h[1-6][^>]*>(.*?)</h[1-6]>', article(f.read_text()), re.S)).items() if n > 1])}
    assert not dup, f"headings repeated on a page: {dup}"

def test_signatures_say_something(site):
    "A class without its own `__init__` (an error, a Protocol) shows its bases, not `(*args, **kwargs)`"
    empty = {f.name: re.findall(r'def (\w+)\(\s*\*args, \*\*kwargs\s*\):', text_of(f.read_text())) for f in site.glob('*.html')}
    assert not {k: v for k, v in empty.items() if v}, f"signatures that say nothing: {empty}"
    assert 'class VideoError(ImageError)' in text_of((site/'video.html').read_text())
    assert 'class PairDetector(Protocol)' in text_of((site/'siamese_v1.html').read_text())

def test_footer_names_the_authors(site):
    import tomllib
    author = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['authors'][0]['name']
    for f in site.glob('*.html'):
        foot = text_of(f.read_text().partition('<footer class="bd-footer-content">')[2])
        assert f'By {author}' in foot and 'not set' not in foot, f"{f.name}: footer {' '.join(foot.split())[:80]!r}"

def test_math_is_marked_for_mathjax(site):
    "Dollar math in prose becomes MathJax spans, and MathJax comes from the site itself"
    for name in ('check.html', 'labeling.html'):
        page = (site/name).read_text()
        assert re.search(r'<span class="math notranslate nohighlight">\\\(', page), f"{name}: no inline math"
        assert not re.search(r'\$[^$\s][^$<]*\$', re.sub(r'<(pre|code)[^>]*>.*?</\1>', '', article(page), flags=re.S)), f"{name}: raw $...$ left"
        assert re.search(r'<script[^>]+src="_static/mathjax/tex-chtml\.js"', page), f"{name}: MathJax is not the site's copy"
    assert (site/'_static'/'mathjax'/'tex-chtml.js').exists()

PATHLIKE = re.compile(r'''[^\s'"`<>(),;\\]+''')

def machine_paths_in(text:str, # a page, search index or source file of the site
                     typed:str='', # prose written for the reader (notebooks' markdown): paths typed there are suggestions (`--out /tmp/x`)
                     machine:tuple=()) -> list: # folders of the machine that built the site: never allowed
    "Absolute paths of a machine in `text`: those of the house's pattern that the prose did not type, and `machine`'s folders"
    return sorted({t for t in PATHLIKE.findall(text) if MACHINE_PATH.search(t) and t not in typed} |
                  {d for d in machine if re.search(re.escape(d) + r'(?![\w.-])', text)})

def prose() -> str:
    "The notebooks' markdown: what their authors typed for the reader"
    return '\n'.join(''.join(c['source']) for nb in (ROOT/'nbs').glob('*.ipynb') for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'markdown')

def build_machine() -> tuple:
    "This machine's folders that a build could leak: the checkout, the Python environment and the home folder"
    return tuple(str(p) for p in {ROOT.resolve(), Path(sys.prefix).resolve(), Path.home().resolve()} if p != Path('/'))

def test_machine_path_check_catches_a_fake():
    assert machine_paths_in("cards_dir:Path=Path('/work/x/avatar_anomaly/cards'), # x") == ['/work/x/avatar_anomaly/cards']
    assert machine_paths_in('<span class="pre">/tmp/loso_F</span>', typed='`--out /tmp/loso_F`') == []
    assert machine_paths_in('"text": "see /srv/ci/src/nbs\\n"', machine=('/srv/ci/src',)) == ['/srv/ci/src']

def test_no_machine_path_in_the_site(site):
    "No file of the site (pages, search index, page sources, assets) names a folder of the machine that built it or ran the notebooks"
    typed, machine = prose(), build_machine() + (str(site.parent.resolve()),)
    found = {}
    for f in site.rglob('*'):
        if not f.is_file() or f.suffix in ('.png', '.jpg', '.gif', '.woff', '.woff2', '.ttf', '.eot', '.ico'): continue
        text = html.unescape(f.read_bytes().decode('utf-8', 'ignore'))
        if p := machine_paths_in(text, typed, machine): found[str(f.relative_to(site))] = p
    assert not found, f"machine paths in the site: {found}"

class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args): pass

@pytest.fixture(scope='module')
def served(site):
    "The site on a loopback port; its base URL"
    srv = ThreadingHTTPServer(('127.0.0.1', 0), partial(_Quiet, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown()

def check_screenshot(png):
    "A real page, not a blank or near-uniform one"
    assert png.stat().st_size > 50_000, f"{png.name}: {png.stat().st_size} bytes"
    assert np.asarray(Image.open(png).convert('L'), dtype=float).std() > 20, f"{png.name} is near-uniform"

@contextmanager
def site_page(served:str): # the site's base URL
    "Within: `(page, outside)`, a 1280×900 Chromium page on which requests off the site are refused and listed in `outside`"
    require('playwright', chromium=True)
    from playwright.sync_api import sync_playwright
    outside = []
    def only_site(route):
        if route.request.url.startswith(served): return route.continue_()
        outside.append(route.request.url); route.abort()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        page.route('**/*', only_site)
        try: yield page, outside
        finally: browser.close()

def test_pages_in_chromium(served, tmp_path):
    "Front page and a chapter render in Chromium with title, navigation of every chapter, and search; nothing off the site loads"
    chapter = next(n for n in bd.sidebar_notebooks() if n != 'index.ipynb')
    mod, chapter_page = next((m, pg) for m, pg in module_pages().items() if pg == page_of(chapter))
    with site_page(served) as (page, outside):
        for name in ['index.ipynb', chapter]:
            page.goto(served + page_of(name))
            h1 = page.wait_for_selector('article.bd-article h1')
            assert h1.inner_text().strip('#').strip(), f"{page_of(name)}: empty H1"
            nav = page.locator('nav.bd-docs-nav a')
            nav.first.wait_for()
            assert nav.count() == len(bd.sidebar_notebooks()), f"navigation has {nav.count()} links"
            page.screenshot(path=tmp_path/f'{name}.png')
            check_screenshot(tmp_path/f'{name}.png')
        page.goto(served + 'search.html?q=' + exported(ROOT/'avatar_anomaly'/f'{mod}.py')[0])
        hit = page.wait_for_selector('#search-results li a')
        assert chapter_page in hit.get_attribute('href')
    assert not outside, f"requests off the site: {outside}"

# What a reader's browser shows, page by page
OVERFLOW_JS = '''() => {
  const art = document.querySelector('article.bd-article'), right = art.getBoundingClientRect().right + 1;
  const scroller = e => { for (let a = e; a && a !== art; a = a.parentElement) { const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') return a; } return null; };
  const cut = [], scrolling = [];
  for (const e of art.querySelectorAll('table, pre')) {
    const r = e.getBoundingClientRect(), s = scroller(e);
    if (r.width === 0) continue;
    if ((s ? s.getBoundingClientRect().right : r.right) > right) cut.push(e.tagName + ': ' + e.textContent.trim().slice(0, 40));
    else if (s && s.scrollWidth > s.clientWidth + 1) scrolling.push(e.tagName);
  }
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1) cut.push('the page itself');
  return {cut, scrolling}; }'''
RAW_MATH_JS = '''() => { const a = document.querySelector('article.bd-article').cloneNode(true);
  a.querySelectorAll('pre, code, mjx-container, script').forEach(e => e.remove()); return a.textContent; }'''
MATH_DONE_JS = "() => [...document.querySelectorAll('article span.math')].every(s => s.querySelector('mjx-container'))"

def test_site_in_chromium(served):
    "Every page in Chromium: no console error, nothing loaded from off the site, no machine path in what it shows, wide tables and code scroll inside the article (shown to fail without the site's CSS), and math typeset by MathJax with no `$...$` left"
    typed = prose()
    errors, problems, math, scrolling = [], {}, {}, {}
    with site_page(served) as (page, outside):
        page.on('console', lambda m: m.type == 'error' and errors.append(f"{page.url}: {m.text}"))
        page.on('pageerror', lambda e: errors.append(f"{page.url}: {e}"))
        for name in bd.sidebar_notebooks():
            page.goto(served + page_of(name)); page.wait_for_selector('article.bd-article h1')
            if n := page.locator('article span.math').count():
                page.wait_for_function(MATH_DONE_JS, timeout=30_000)
                math[page_of(name)] = (n, re.findall(r'\$[^$\s][^$]*\$', page.evaluate(RAW_MATH_JS)))
            if found := machine_paths_in(page.inner_text('body'), typed, build_machine()): problems[f"{page_of(name)} shows"] = found
            o = page.evaluate(OVERFLOW_JS)
            if o['cut']: problems[f"{page_of(name)} cuts off"] = o['cut']
            scrolling[page_of(name)] = len(o['scrolling'])
        page.add_style_tag(content='.bd-article * { overflow: visible !important; }')   # the last page without the site's scrolling
        unstyled = page.evaluate(OVERFLOW_JS)
    assert not errors, f"console errors: {errors}"
    assert not outside, f"requests off the site: {outside}"
    assert not problems, problems
    for pg in ('check.html', 'labeling.html'):
        assert pg in math and math[pg][0] > 0, f"{pg}: no math typeset"
    assert not {pg: raw for pg, (_, raw) in math.items() if raw}, f"raw $...$ on pages: {math}"
    assert scrolling['check.html'] > 0, "the check page's detector tables are no wider than the article: nothing to scroll?"
    assert unstyled['cut'], f"without the site's CSS nothing on {page_of(bd.sidebar_notebooks()[-1])} is cut off: the overflow check cannot fail"

"""The documentation site (tools/build_docs.py): notebook cleaning on small notebooks, then one offline build, checked as HTML and
in headless Chromium. The build and browser tests skip when Sphinx/myst-nb or Chromium are missing, and fail then in CI
(`AVATAR_ANOMALY_REQUIRE_DATA=1`)."""
import ast, html, importlib.util, json, re, subprocess, sys, threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from nbdev.doclinks import nbpath2html
from avatar_anomaly.data import data_required
from conftest import CHROMIUM, CHROMIUM_ARGS

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

def test_pages_in_chromium(served, tmp_path):
    "Front page and a chapter render in Chromium with title, navigation of every chapter, and search; nothing off the site loads"
    require('playwright', chromium=True)
    from playwright.sync_api import sync_playwright
    chapter = next(n for n in bd.sidebar_notebooks() if n != 'index.ipynb')
    mod, chapter_page = next((m, pg) for m, pg in module_pages().items() if pg == page_of(chapter))
    outside = []
    def only_site(route):
        if route.request.url.startswith(served): return route.continue_()
        outside.append(route.request.url); route.abort()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        page.route('**/*', only_site)
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
        browser.close()
    assert not outside, f"requests off the site: {outside}"

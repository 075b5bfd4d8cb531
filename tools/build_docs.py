"""Build the documentation site offline, without Quarto: nbdev's notebook processing, then Sphinx (myst-nb, sphinx-book-theme, MathJax).

    python tools/build_docs.py [--out _docs] [--check]

Writes the Sphinx source to OUT/src and the site to OUT/html (open OUT/html/index.html). Pages follow `nbs/sidebar.yml`, the
front page is `nbs/index.ipynb`, and page names are nbdev's (`03b_avatars.ipynb` → `avatars.html`), as on the published site.
Nothing is executed at build time beyond what nbdev runs for `show_doc`; outputs are the notebooks' saved ones; no network: MathJax
(sphinx-mathjax-offline) is copied into the site, wide outputs and code scroll inside the article (`CSS`).
A notebook nbdev cannot process is reported and left out, and the exit status is 1; `--check` also fails on Sphinx warnings.
`nbdev-docs` (Quarto, `nbs/_quarto.yml`) stays the route for those who have Quarto.
"""
import argparse, ast, inspect, json, os, re, shutil, subprocess, sys, time
from pathlib import Path
import yaml
import nbdev.showdoc as showdoc
from fastcore.docments import DocmentText
from fastcore.nbio import read_nb, nb2dict
from nbdev.config import get_config
from nbdev.doclinks import nbpath2html
from nbdev.processors import FilterDefaults, exec_show_docs

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'

# Cell keys of the nbformat 4 schema (nbdev adds others, e.g. `has_sd`, which nbformat and myst-nb refuse)
CELL_KEYS = {'code': {'id', 'cell_type', 'metadata', 'source', 'execution_count', 'outputs'},
             'markdown': {'id', 'cell_type', 'metadata', 'source', 'attachments'},
             'raw': {'id', 'cell_type', 'metadata', 'source', 'attachments'}}
# Quarto/nbdev cell directives → myst-nb cell tags
TAGS = {('echo', 'false'): 'remove-input', ('hide_input', ''): 'remove-input',
        ('output', 'false'): 'remove-output', ('hide_output', ''): 'remove-output',
        ('include', 'false'): 'remove-cell', ('hide', ''): 'remove-cell', ('hide', 'true'): 'remove-cell'}
DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]*)\s*:?\s*(.*?)\s*$')
CALLOUT = re.compile(r'^(?P<fence>:{3,}) *\{\.callout-(?P<kind>\w+)(?P<attrs>[^}]*)\}[ \t]*\n(?:#{1,6} +(?P<head>[^\n]+)\n)?', re.M)
YAML_FM = re.compile(r'^---\n(.*?)\n---\s*$', re.S)
MD_FM = re.compile(r'^# +(?P<title>[^\n]+)\n+> *(?P<description>[^\n]+)\n*(?P<rest>.*)$', re.S)

def _md(source:str, id:str) -> dict:
    "A markdown cell holding `source`"
    return dict(cell_type='markdown', id=id, metadata={}, source=source)

def split_frontmatter(cells:list) -> tuple:
    "(title, description, the other cells): from nbdev's YAML raw cell (`_proc`) or a first `# Title` + `> summary` cell"
    for i, c in enumerate(cells):
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw' and (m := YAML_FM.match(src)):
            fm = yaml.safe_load(m[1]) or {}
            return fm.get('title', ''), fm.get('description', ''), cells[:i] + cells[i+1:]
        if c['cell_type'] == 'markdown':
            if not (m := MD_FM.match(src)): break
            rest = [_md(m['rest'], c.get('id', 'summary'))] if m['rest'].strip() else []
            return m['title'].strip(), m['description'].strip(), cells[:i] + rest + cells[i+1:]
    return '', '', cells

def title_cell(title:str, description:str) -> dict:
    "The page's H1 and, below it, the description as a lead paragraph"
    return _md(f"# {title}" + (f"\n\n{{.lead}}\n{description}" if description else ''), 'title')

def code_cells(c:dict) -> list:
    "`c` without its `#|` lines, as tagged for myst-nb (`echo: false` → `remove-input`, ...); `output: asis` output as markdown"
    lines, tags, asis = [], list(c['metadata'].get('tags', [])), False
    for line in ''.join(c['source']).splitlines(keepends=True):
        if not (m := DIRECTIVE.match(line)): lines.append(line); continue
        key = (m[1], m[2].lower())
        asis |= key == ('output', 'asis')
        if (tag := TAGS.get(key)) and tag not in tags: tags.append(tag)
    meta = {k: v for k, v in c['metadata'].items() if k != 'execution'} | ({'tags': tags} if tags else {})
    c = {**c, 'source': ''.join(lines).lstrip('\n'), 'metadata': meta}
    if not asis: return [c] if c['source'].strip() or c['outputs'] else []   # a cell of directives only shows nothing
    md = ''.join(''.join(o.get('data', {}).get('text/markdown', o.get('text', ''))) for o in c['outputs'])
    md = re.sub(r'^\s*---\n', '', md)   # show_doc's leading rule: docutils refuses one at the start of a section
    return ([] if {'remove-input', 'remove-cell'} & set(tags) else [{**c, 'outputs': []}]) + [_md(md, f"{c.get('id', 'cell')}-asis")]

def callouts_to_admonitions(md:str) -> str:
    "Quarto callouts (`::: {.callout-note}` ... `:::`, with a `title=` or a first heading) as MyST admonitions"
    def sub(m):
        title = m['head'] or (re.search(r'title="([^"]*)"', m['attrs']) or [None, None])[1]
        return f"{m['fence']}{{admonition}} {title}\n:class: {m['kind']}\n" if title else f"{m['fence']}{{{m['kind']}}}\n"
    return CALLOUT.sub(sub, md)

CHAPTER_LINK = re.compile(r'\]\((\d\w*\.ipynb)')

def chapter_links(md:str) -> str:
    "Links to chapters by notebook name (`[08_check](08_check.ipynb)`, as nbdev and the README write them) to their pages' sources"
    return CHAPTER_LINK.sub(lambda m: f"]({page_name(m[1])}.ipynb", md)

def clean_nb(nb:dict) -> dict:
    "A valid nbformat 4 notebook for myst-nb from an nbdev (processed) notebook: title cell, tags for directives, admonitions"
    title, description, cells = split_frontmatter(nb['cells'])
    out = [title_cell(title, description)] if title else []
    for c in cells:
        c = {k: v for k, v in c.items() if k in CELL_KEYS[c['cell_type']]}
        if c['cell_type'] == 'code': out += code_cells(c)
        elif c['cell_type'] == 'markdown': out.append({**c, 'source': callouts_to_admonitions(''.join(c['source']))})
        else: out.append(c)
    out = [{**c, 'source': chapter_links(''.join(c['source']))} if c['cell_type'] == 'markdown' else c for c in out]
    meta = {k: v for k, v in nb.get('metadata', {}).items() if k not in ('execution', 'widgets')}   # no widget state: no CDN
    meta.setdefault('language_info', {'name': 'python'})   # the lexer of code cells
    return dict(nbformat=4, nbformat_minor=5, metadata=meta, cells=out)

def sidebar_notebooks(sidebar=NBS/'sidebar.yml') -> list:
    "Notebook names in `sidebar`'s reading order (sections flattened)"
    def walk(items):
        for o in items:
            if isinstance(o, str): yield o
            elif 'contents' in o: yield from walk(o['contents'])
            elif 'href' in o: yield o['href']
    return list(walk(yaml.safe_load(Path(sidebar).read_text())['website']['sidebar']['contents']))

def page_name(nb_name:str) -> str:
    "nbdev's page name of a notebook: `03b_avatars.ipynb` → `avatars`"
    return nbpath2html(Path(nb_name)).stem

def toctree(pages:list) -> dict:
    "The markdown cell that makes `pages` the site's navigation, in order"
    return _md(':::{toctree}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(pages) + '\n:::', 'toctree')

def _needed_for_docs(cell) -> bool:
    "Whether `show_doc` output needs `cell` run: an export, a `show_doc` call, or imports only"
    if cell.cell_type != 'code': return False
    if cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}: return True
    trees = cell.parsed_() or []
    if any(isinstance(t, ast.Expr) and getattr(getattr(t.value, 'func', None), 'id', None) == 'show_doc' for t in trees): return True
    return bool(trees) and all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in trees)

class exec_doc_cells(exec_show_docs):
    "nbdev's `exec_show_docs` less the test cells that also import (nbdev runs them; they need cells it skips, and fail)"
    def __call__(self, cell):
        if _needed_for_docs(cell): super().__call__(cell)

class DocsFilter(FilterDefaults):
    "nbdev's docs processors (`nbdev-proc-nbs`), with `exec_doc_cells` for `exec_show_docs`"
    def base_procs(self): return [exec_doc_cells if p is exec_show_docs else p for p in super().base_procs()]

class ClassRenderer(showdoc.BasicMarkdownRenderer):
    "nbdev's `show_doc` markdown, except that a class whose signature says nothing (`*args, **kwargs`: an error, a Protocol) shows its bases"
    def _repr_markdown_(self):
        md = super()._repr_markdown_()
        if not (inspect.isclass(self.sym) and isinstance(self.dm, DocmentText) and [p for p, _ in self.dm.params] == ['*args', '**kwargs']): return md
        bases = ', '.join(b.__name__ for b in self.sym.__bases__ if b is not object)
        return md.replace(f"```python\n{self.dm}\n```", f"```python\nclass {self.nm}({bases})\n```", 1)

def process_nb(path:Path) -> dict:
    "nbdev's docs processing of the notebook at `path` (what `nbdev-proc-nbs` writes to `_proc/`, `show_doc` by `ClassRenderer`), as a dict"
    nb = read_nb(path)
    os.environ['IN_TEST'] = '1'   # as `nbdev-proc-nbs` runs notebooks
    basic, showdoc.BasicMarkdownRenderer = showdoc.BasicMarkdownRenderer, ClassRenderer   # `show_doc`'s default renderer
    try: DocsFilter()(nb)
    finally: del os.environ['IN_TEST']; showdoc.BasicMarkdownRenderer = basic
    return nb2dict(nb)

CONF = '''# Written by tools/build_docs.py: edit that script, not this file
project = html_title = {title!r}
author = {author!r}               # the footer's "By ..."
extensions = ["myst_nb", "sphinx-mathjax-offline"]   # MathJax 3 copied into the site (_static/mathjax), not loaded from a CDN
nb_execution_mode = "off"        # the notebooks' saved outputs; nothing runs at build time
nb_ipywidgets_js = {{}}           # no widget JavaScript from a CDN
myst_enable_extensions = ["colon_fence", "attrs_block", "dollarmath"]   # `$p$`, `$$...$$` as in Jupyter and Quarto
suppress_warnings = ["myst.header",                # show_doc's H3 right under a page's H1, as Quarto allows
                     "misc.highlighting_failure"]  # show_doc signatures with reprs of defaults (`<class 'OSError'>`)
html_theme = "sphinx_book_theme"
html_theme_options = {{"repository_url": {repo!r}, "use_repository_button": {has_repo}, "home_page_in_toc": True}}   # a button only for an address that exists
html_context = {{"default_mode": "light"}}   # without it every page logs "Got invalid theme mode" (an empty mode)
html_static_path = ["_static"]
html_css_files = ["site.css"]
'''

# Wide outputs (tables, text) and code scroll sideways inside the article instead of being cut off at its right edge
CSS = '''/* Written by tools/build_docs.py */
.bd-article div.output, .bd-article div.cell_output { overflow-x: auto; }
.bd-article div.highlight pre, .bd-article div.output pre { overflow-x: auto; white-space: pre; }
.bd-article .pst-scrollable-table-container, .bd-article div.output.text_html { max-width: 100%; overflow-x: auto; }
'''

def write_source(src:Path) -> list:
    "Write the Sphinx source (cleaned pages, images, conf.py) to `src`; the notebooks nbdev failed on, with their errors"
    cfg, failed, pages = get_config(), [], []
    shutil.rmtree(src, ignore_errors=True); src.mkdir(parents=True)
    if (NBS/'images').is_dir(): shutil.copytree(NBS/'images', src/'images')
    index = clean_nb(process_nb(NBS/'index.ipynb'))   # the front page: no site without it, so its errors raise
    for name in [n for n in sidebar_notebooks() if n != 'index.ipynb']:
        try: nb = clean_nb(process_nb(NBS/name))
        except Exception as e:
            failed.append((name, e)); continue
        pages.append(page_name(name))
        (src/f'{pages[-1]}.ipynb').write_text(json.dumps(nb, indent=1))
    index['cells'].append(toctree(pages))
    (src/'index.ipynb').write_text(json.dumps(index, indent=1))
    (src/'conf.py').write_text(CONF.format(title=cfg.title, author=cfg.author, repo=cfg.git_url, has_repo=bool(cfg.git_url)))
    (src/'_static').mkdir(); (src/'_static'/'site.css').write_text(CSS)
    return failed

def sphinx_build(src:Path, html:Path) -> list:
    "Build `html` from `src` with Sphinx; the warnings"
    warnings = src.parent/'warnings.txt'
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-w', str(warnings), '-d', str(src.parent/'doctrees'), str(src), str(html)])   # doctrees (with this machine's paths) outside the site
    if r.returncode: sys.exit(f"sphinx-build failed (exit {r.returncode})")
    return [l for l in warnings.read_text().splitlines() if 'WARNING' in l]

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', type=Path, default=ROOT/'_docs', help='output folder: OUT/src (Sphinx source), OUT/html (the site)')
    p.add_argument('--check', action='store_true', help='fail (exit 1) on Sphinx warnings too')
    a = p.parse_args(argv)
    out = a.out.resolve()
    os.chdir(ROOT)   # nbdev reads its settings from the project's pyproject.toml
    os.environ.setdefault('MPLBACKEND', 'Agg')
    t0 = time.time()
    failed = write_source(out/'src')
    for name, e in failed: print(f"nbdev could not process nbs/{name}:\n{e}\n", file=sys.stderr)
    warnings = sphinx_build(out/'src', out/'html')
    print(f"{len(warnings)} warnings, {len(failed)} notebooks failed; {out/'html'/'index.html'} in {time.time() - t0:.0f} s")
    if failed or (a.check and warnings): sys.exit(1)

if __name__ == '__main__': main()

"""Render nbs/index.ipynb to README.md (what Quarto's nbdev-readme would do; Quarto cannot run on the build machines), after
refreshing the pages made from the cards: the Results chapter's tables and the front page's headline table.

    python tools/render_readme.py
    python tools/render_readme.py --also nbs/05_finetune.ipynb nbs/08_check.ipynb   # after a rebuild changed their cards

Prose cells as they are, code cells (not `#| hide`, nor `#| echo: false`) as Python blocks, text outputs as plain blocks,
`#| output: asis` outputs as Markdown, figures as PNG files in nbs/images/ linked from the README; links to chapters
(`08_check.ipynb`) point into nbs/.
"""
import argparse, base64, contextlib, io, json, os, re
from pathlib import Path

ROOT = Path(__file__).parents[1]
NBS = ROOT/'nbs'
RESULTS = NBS/'95_results.ipynb'   # every figure of the cards, with its command; rerun here so that it shows the cards as they are
DIRECTIVE = re.compile(r'^#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$', re.M)

def directives(src:str) -> dict:
    "A code cell's `#|` directives: `{'echo': 'false', 'output': 'asis', 'hide': ''}`"
    return {k: v.lower() for k, v in DIRECTIVE.findall(src)}

def prose(src:str) -> str:
    "A markdown cell as the README shows it: the title's summary on its own line, links to `images/` and to chapters pointing into nbs/"
    src = re.sub(r'^# (.+)\n> (.+)$', r'# \1\n\n> \2', src, flags=re.M)
    src = re.sub(r'\]\(images/', '](nbs/images/', src)
    return re.sub(r'\]\((\d\w*\.ipynb)', r'](nbs/\1', src)

def output_text(o:dict) -> str:
    "The text of a stream or of a result's plain text"
    return ''.join(o.get('text', '')) or ''.join(o.get('data', {}).get('text/plain', ''))

def render(nb_path=NBS/'index.ipynb', images=NBS/'images') -> str:
    "The README text of the notebook at `nb_path`; its figures are written to `images`"
    out, n_fig = [], 0
    for c in json.loads(Path(nb_path).read_text())['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            out.append(prose(src))
            continue
        d = directives(src)
        if 'hide' in d: continue
        if d.get('echo') != 'false': out.append(f"```python\n{DIRECTIVE.sub('', src).strip()}\n```")
        for o in c.get('outputs', []):
            data = o.get('data', {})
            if 'image/png' in data:
                images.mkdir(parents=True, exist_ok=True)
                f = images/f'readme_{n_fig}.png'; n_fig += 1
                f.write_bytes(base64.b64decode(data['image/png']))
                out.append(f"![output]({f.relative_to(ROOT).as_posix()})")
                continue
            text = output_text(o).rstrip('\n')
            if text: out.append(prose(text) if d.get('output') == 'asis' else "```\n" + text + "\n```")
    return '<!-- generated from nbs/index.ipynb by tools/render_readme.py: edit the notebook, then regenerate -->\n\n' + '\n\n'.join(out) + '\n'

def asis_outputs(src:str) -> list:
    "The outputs of an `#| output: asis` cell run now: what it prints, as one stream"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf): exec(compile(src, '<asis cell>', 'exec'), {})
    return [dict(name='stdout', output_type='stream', text=buf.getvalue().splitlines(keepends=True))]

def fresh_outputs(nb_path:Path) -> dict:
    "`{cell id: outputs}` of the notebook at `nb_path` run now, top to bottom, in its folder (execnb, as nbdev's tests run notebooks)"
    from execnb.shell import CaptureShell
    from fastcore.nbio import read_nb
    nb, cwd = read_nb(nb_path), os.getcwd()
    os.chdir(Path(nb_path).parent)
    try: CaptureShell().run_all(nb, exc_stop=True)
    finally: os.chdir(cwd)
    return {c['id']: [dict(o) for o in c.get('outputs', [])] for c in nb.cells if c['cell_type'] == 'code'}

def comparable(outputs:list) -> list:
    "Outputs without what differs between runs of the same figures (execution counts, metadata), texts as single strings"
    join = lambda v: ''.join(v) if isinstance(v, list) else v
    return [{k: ({m: join(t) for m, t in v.items()} if k == 'data' else join(v)) for k, v in o.items()
             if k not in ('execution_count', 'metadata', 'transient')} for o in outputs]

def stale_cells(nb:dict, fresh:dict) -> list:
    "Ids of the code cells of `nb` whose stored outputs differ from `fresh` (`fresh_outputs`)"
    return [c['id'] for c in nb['cells'] if c['cell_type'] == 'code' and comparable(c.get('outputs', [])) != comparable(fresh.get(c['id'], []))]

def stored(o:dict) -> dict:
    "An output as Jupyter stores it: texts as lists of lines, a result with its (blank) execution count and metadata"
    lines = lambda v: v.splitlines(keepends=True) if isinstance(v, str) else v
    o = {k: ({m: lines(t) if m.startswith('text/') else t for m, t in v.items()} if k == 'data' else lines(v) if k == 'text' else v) for k, v in o.items()}
    if o['output_type'] == 'stream': return o   # nbformat allows a stream no metadata
    return {**o, 'metadata': {}, **({'execution_count': None} if o['output_type'] == 'execute_result' else {})}

def store_outputs(nb_path:Path, outputs:dict):
    "Write `outputs` (`{cell id: outputs}`) into the notebook at `nb_path`, execution counts blank (as `nbdev-clean` leaves them)"
    nb = json.loads(Path(nb_path).read_text())
    for c in nb['cells']:
        if c['cell_type'] == 'code' and c['id'] in outputs: c['outputs'] = [stored(o) for o in comparable(outputs[c['id']])]
    Path(nb_path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

def refresh(index=NBS/'index.ipynb', results=RESULTS):
    "Rerun the Results chapter and the front page's `#| output: asis` cells, storing their outputs"
    store_outputs(results, fresh_outputs(results))
    nb = json.loads(Path(index).read_text())
    store_outputs(index, {c['id']: asis_outputs(''.join(c['source'])) for c in nb['cells']
                          if c['cell_type'] == 'code' and directives(''.join(c['source'])).get('output') == 'asis'})

def shown_outputs(nb:dict, fresh:dict) -> dict:
    "`fresh` (`fresh_outputs`) for the code cells of `nb` that show something now, without what went to stderr (warnings, progress bars)"
    shown = {c['id'] for c in nb['cells'] if c['cell_type'] == 'code' and c.get('outputs')}
    return {k: [o for o in v if o.get('name') != 'stderr'] for k, v in fresh.items() if k in shown}

def refresh_chapter(nb_path:Path):
    "Rerun a chapter and store the new outputs of the cells that show some (a cell that shows nothing stays so)"
    store_outputs(nb_path, shown_outputs(json.loads(Path(nb_path).read_text()), fresh_outputs(nb_path)))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--also', nargs='*', default=[], type=Path, help='chapters to rerun first, storing the outputs of the cells that show some')
    for nb_path in ap.parse_args().also: refresh_chapter(nb_path); print(f"reran {nb_path}")
    refresh()
    (ROOT/'README.md').write_text(render())

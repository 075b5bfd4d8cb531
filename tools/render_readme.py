"""Render nbs/index.ipynb to README.md (what Quarto's nbdev-readme would do; Quarto cannot run on the build machines).

    python tools/render_readme.py

Prose cells as they are, code cells (not `#| hide`) as Python blocks, text outputs as plain blocks, figures as PNG files in
nbs/images/ linked from the README.
"""
import base64, json, re
from pathlib import Path

ROOT = Path(__file__).parents[1]

def prose(src:str) -> str:
    "A markdown cell as the README shows it: the title's summary on its own line, links to the notebooks' `images/` pointing at nbs/images/"
    src = re.sub(r'^# (.+)\n> (.+)$', r'# \1\n\n> \2', src, flags=re.M)
    return re.sub(r'\]\(images/', '](nbs/images/', src)

def render(nb_path=ROOT/'nbs'/'index.ipynb', images=ROOT/'nbs'/'images') -> str:
    "The README text of the notebook at `nb_path`; its figures are written to `images`"
    out, n_fig = [], 0
    for c in json.loads(Path(nb_path).read_text())['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown':
            out.append(prose(src))
            continue
        if src.startswith('#| hide'): continue
        out.append(f"```python\n{src}\n```")
        for o in c.get('outputs', []):
            data = o.get('data', {})
            if 'image/png' in data:
                images.mkdir(parents=True, exist_ok=True)
                f = images/f'readme_{n_fig}.png'; n_fig += 1
                f.write_bytes(base64.b64decode(data['image/png']))
                out.append(f"![output]({f.relative_to(ROOT).as_posix()})")
                continue
            text = ''.join(o.get('text', '')) or ''.join(data.get('text/plain', ''))
            if text: out.append("```\n" + text.rstrip('\n') + "\n```")
    return '<!-- generated from nbs/index.ipynb by tools/render_readme.py: edit the notebook, then regenerate -->\n\n' + '\n\n'.join(out) + '\n'

if __name__ == '__main__': (ROOT/'README.md').write_text(render())

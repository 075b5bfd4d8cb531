"Every notebook in nbs/ runs top to bottom (nbdev's test_nb). A notebook needs the datasets it names literally in `dataset_path('name')`, and the reference fixtures when it names `'reference'/'fixtures'`; conftest.py says what happens when they are absent"
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_nb  # aliased so pytest does not collect it
from conftest import require_dataset, require_reference

NBS = sorted(p for p in (Path(__file__).parents[1]/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))

def datasets_used(nb:Path) -> list:
    "Names passed to `dataset_path(...)` in the notebook"
    import re
    return sorted(set(re.findall(r"dataset_path\(\\?['\"](\w+)", nb.read_text())))

def test_notebooks_found():
    assert {'index.ipynb', '00_data.ipynb', '01_backbones.ipynb', '02_dan.ipynb', '03_dualstylegan.ipynb', '03a_toon.ipynb',
            '03b_avatars.ipynb', '08_check.ipynb', '90_cli.ipynb'} <= {p.name for p in NBS}

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_notebook(nb):
    for name in datasets_used(nb): require_dataset(name)
    if "'reference'/'fixtures'" in nb.read_text(): require_reference()
    ok, secs = run_nb(nb)
    assert ok, f"{nb.name} failed: see the traceback printed above"

"Library functions called from the installed package, outside the notebooks' namespace (where helpers such as `plt` are imported)"
from pathlib import Path
import matplotlib; matplotlib.use('Agg')
import pandas as pd
from avatar_anomaly.toon import plot_preservation

def test_plot_preservation_from_package():
    t = pd.read_csv(Path(__file__).parents[1]/'bench'/'results'/'table4.csv', keep_default_na=False)
    ax = plot_preservation(t[t.split == 'valid'])
    assert len(ax.texts) == 16 and ax.get_title() == 'agreement'   # one label per cell of the 4×4 toon grid

"Library functions called from the installed package, outside the notebooks' namespace (where helpers such as `plt` are imported)"
import matplotlib; matplotlib.use('Agg')
import pandas as pd
from avatar_anomaly.weights import read_card
from avatar_anomaly.avatars import plot_preservation

def test_plot_preservation_from_package():
    t = pd.DataFrame(read_card('table4')['rows'])
    ax = plot_preservation(t[t.split == 'valid'])
    assert len(ax.texts) == 16 and ax.get_title() == 'agreement'   # one label per cell of the 4×4 toon grid

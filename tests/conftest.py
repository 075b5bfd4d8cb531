"Shared test helpers: datasets under `AVATAR_ANOMALY_DATA` are skipped when absent, a failure when CI requires them"
import os
import pytest
from avatar_anomaly.data import DataNotFoundError, dataset_path, data_required

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

def require_dataset(name):
    "Path of dataset `name`; skips the test when it is absent, fails it when `AVATAR_ANOMALY_REQUIRE_DATA=1`"
    try: return dataset_path(name)
    except DataNotFoundError as e:
        if data_required(): pytest.fail(f"{e} (AVATAR_ANOMALY_REQUIRE_DATA=1)")
        pytest.skip(str(e))

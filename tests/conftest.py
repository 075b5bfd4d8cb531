"Shared test helpers: datasets under `AVATAR_ANOMALY_DATA` are skipped when absent, a failure when CI requires them"
import os
import pytest
from avatar_anomaly.data import DataNotFoundError, dataset_path, data_required, data_root

os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')
if data_root() is not None and (data_root().parent/'models').is_dir():   # the weight files beside the data (../shared/models)
    os.environ.setdefault('AVATAR_ANOMALY_WEIGHTS', str(data_root().parent/'models'))

def require_dataset(name):
    "Path of dataset `name`; skips the test when it is absent, fails it when `AVATAR_ANOMALY_REQUIRE_DATA=1`"
    try: return dataset_path(name)
    except DataNotFoundError as e:
        if data_required(): pytest.fail(f"{e} (AVATAR_ANOMALY_REQUIRE_DATA=1)")
        pytest.skip(str(e))

def require_reference():
    "The official-code fixtures folder (`../shared/reference` beside the data); skip or fail as for datasets"
    ref = data_root().parent/'reference' if data_root() else None
    if ref is not None and (ref/'fixtures').is_dir(): return ref
    msg = f"reference fixtures not found at {ref}: set AVATAR_ANOMALY_DATA to the data folder beside ../shared/reference"
    if data_required(): pytest.fail(msg)
    pytest.skip(msg)

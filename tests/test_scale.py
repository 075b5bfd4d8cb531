"""The audit through Ray (issue 27): a local Ray with 2 CPUs reads 200 FER2013 test photos and their toon avatars, and the audit
equals the one-process audit item for item and figure for figure (the probabilities to 1e-5: an actor computes with one thread,
in batches of its own). Throughput is measured by `bench/audit.py`, not here.

Skipped when Ray is missing, a failure when `AVATAR_ANOMALY_REQUIRE_DATA=1` (CI installs it with the dev extra)."""
import numpy as np
import pandas as pd
from conftest import require_modules, require_dataset

N_PAIRS = 200

def test_ray_audit_equals_local(tmp_path):
    require_modules('ray')
    from avatar_anomaly.data import read_dataset, usable_rows
    from avatar_anomaly.audit import audit, RayReading
    from avatar_anomaly.check import AnomalyChecker
    photos = usable_rows(read_dataset(require_dataset('fer2013')), ['test']).head(N_PAIRS)
    checker = AnomalyChecker(detect=False)
    local = audit(photos, generator='toon', checker=checker, out_dir=tmp_path/'toon', progress=False)
    ray_engine = RayReading(workers=2)
    try:
        spread = audit(photos, generator='toon', checker=checker, out_dir=tmp_path/'toon', progress=False, engine=ray_engine)
    finally:
        import ray
        ray.shutdown()
    g, h = local.generators[0], spread.generators[0]
    assert len(g.checked) == N_PAIRS
    pd.testing.assert_frame_equal(g.items, h.items, check_exact=False, atol=1e-5)
    np.testing.assert_allclose(g.real_probs, h.real_probs, atol=1e-5); np.testing.assert_allclose(g.avatar_probs, h.avatar_probs, atol=1e-5)
    assert local.table().equals(spread.table())   # kept and anomaly rates, their intervals

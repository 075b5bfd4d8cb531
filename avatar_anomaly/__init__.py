"""Tell when a person's generated avatar shows a different emotion than the person

Modules:

- `avatar_anomaly.avatars`: FER2013 avatars that keep their photo's label and split, (real face, avatar) pairs with and without an emotion mismatch, and a second cartoon style for cross-style checks
- `avatar_anomaly.check`: The main job: does the avatar show the person's emotion? `AnomalyChecker`, the label-compare baseline, its evaluation on FER2013 avatar pairs, and the demo
- `avatar_anomaly.toon`: Avatars that need no weights: a deterministic "toon" stylizer with structure and colour knobs, the White-box Cartoonization generator from a TFLite file, and the study's emotion-preservation table (Table 4) redone on FER2013"""

__version__ = "0.0.1"

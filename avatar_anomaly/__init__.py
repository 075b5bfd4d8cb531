"""Tell when a person's generated avatar shows a different emotion than the person

Modules:

- `avatar_anomaly.check`: The main job: does the avatar show the person's emotion? `AnomalyChecker`, the label-compare baseline, and its evaluation on FER2013 avatar pairs
- `avatar_anomaly.toon`: Avatars that need no weights: a deterministic "toon" stylizer with structure and colour knobs, the White-box Cartoonization generator from a TFLite file"""

__version__ = "0.0.1"

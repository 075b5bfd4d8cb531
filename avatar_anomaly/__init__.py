"""Tell when a person's generated avatar shows a different emotion than the person

Modules:

- `avatar_anomaly.check`: The main job: does the avatar show the person's emotion? `AnomalyChecker` with a choice of detectors (label-compare, Siamese v1 and v2), and their evaluation on FER2013 and same-person avatar pairs
- `avatar_anomaly.finetune`: The photo reader fine-tuned on avatars of every style: finding faces on avatars, the avatar datasets, the recipe, per-style and leave-one-style-out tables, and Tom & Jerry as a style it never saw
- `avatar_anomaly.live`: Video files, cameras and frame folders checked pair by pair: faces tracked between detections, smoothed emotions, anomalies that must persist, a per-frame report written as it goes, a summary, per-stage speeds and a timeline plot
- `avatar_anomaly.onnx`: Emotion readers as self-contained ONNX files (resize and normalisation inside, dynamic batch, pinned opset, metadata to rebuild the reader) and the Siamese pair detectors (score inside), their parity with PyTorch on real face crops, and `OnnxEmotionPredictor` and `OnnxPairDetector`, the same predictor and detector run by onnxruntime
- `avatar_anomaly.siamese_v1`: The study's first anomaly detector made reproducible: (real face, avatar) pair sets, the two readers as feature extractors, pair DataLoaders, metrics, and v1 (contrastive loss on the two feature vectors, a distance threshold chosen on valid)
- `avatar_anomaly.siamese_v2`: The study's second anomaly detector: the two readers' feature vectors joined, fully connected layers, one logit trained with binary cross-entropy; and the variants that usually answer "same?" better ([a, b, |a − b|, a·b], an auxiliary emotion loss)
- `avatar_anomaly.toon`: Avatars that need no weights: a deterministic "toon" stylizer with structure and colour knobs, the White-box Cartoonization generator from a TFLite file"""

__version__ = "0.0.1"

"""The built-in synthetic MUSIC-AVQA benchmark: scenes, features, questions, ground truth, media."""

"""Voice detection: a speech-probability model and a sans-I/O segmenter."""

"""Speech recognition: the LocalAgreement streaming core and the faster-whisper adapter."""

"""Audio in: files, capture devices and pushed PCM, all as 16 kHz mono float32."""

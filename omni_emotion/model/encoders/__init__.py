"""The three encoders of the Omni-Emotion MLLM: general vision (SigLIP), face (FaceXFormer-style), audio (Whisper)."""

"""Spoken output: text normalisation, synthesis, prompt cache and playback (no widgets)."""

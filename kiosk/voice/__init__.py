"""Offline speech input: the listener (vosk), the language pack's intents, model management.

Core modules here import no widgets (``controller`` uses QtCore only); the microphone button
and the confirmation screen live in kiosk/screens/.
"""

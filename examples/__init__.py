"""Runnable examples of creditgate in an application (`ai_app`: a FastAPI AI studio)."""

"""The desk room."""

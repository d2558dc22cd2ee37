"""The day's work of each role, for the home page."""

"""The project's own date and time formats (settings.FORMAT_MODULE_PATH), per language.

Only what Django's locale gets wrong is here; every other format falls through to Django's.
"""

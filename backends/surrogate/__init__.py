"""The surrogate engine (engine.py): biophysical populations run by trained surrogates."""

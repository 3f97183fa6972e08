"""The benchmark harness: the gateway, a hand-written baseline and the REST upstream under load.

``make bench`` (``python -m bench``) runs it; ``bench/README.md`` says what it measures and how.
"""

"""What the tests share: servers and their clients, Redis, Kombo's error bodies, the sandbox's
ground truth, GraphiQL's expected CSP and the API-key scanning. Fixtures stay in the conftest.py
files; everything here is plain code a test imports."""

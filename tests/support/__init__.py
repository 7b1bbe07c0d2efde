"""What the tests share besides fixtures (tests/conftest.py): builders through the public API, accueil
processes, and a stand-in for the browsers' push services."""

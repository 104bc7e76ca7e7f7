"""The web pages' room (empty until the pages issue): templates, static assets and translations.

Pages are rendered from the services (api/wiring/) like the HTTP API's
routes, but neither room imports the other (import-linter's independence
contract in pyproject.toml); what both need lives below them, in ca/ and
signing/, or in api/settings.py and api/wiring/.
"""

"""The results web page for marketers: server-rendered HTML (Jinja2) served by the API process.

Modules: `routes` (the pages and their actions), `sessions` (login with the admin key, signed
session cookie, CSRF tokens), `views` (a stored look turned into what the templates show, in
the words and figures of `experiments.results.words.formatting`), `charts` (server-rendered SVG).
Every script, style and font is served by the app; nothing is fetched from elsewhere.
"""

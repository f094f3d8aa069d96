"""icorules as a service: an HTTP API and a browser workspace (`icorules serve`).

- `state`: what the server loads once at start-up (rules, market and waiver files, examples);
- `checks`: the work of one request, done in a worker process (the engine holds the GIL);
- `workers`: the process pool that runs it;
- `trial`: "Try a rule": a draft ruleset loaded, linted and run from text, never from disk;
- `app`: the FastAPI application (routes, limits on the body, errors as JSON);
- `static/`: the workspace's page, script and styles, served from the package.

FastAPI and uvicorn come with the `serve` extra (`pip install "icorules[serve]"`); nothing
else in icorules imports this package.
"""

# The commands a person types. `make run` serves the app, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DATA ?= ../shared/data/locomo-dev.json

.PHONY: run test lint format bench bench-http bench-speech eval-memory worker clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: install, migrate (which loads the system personas), queue the voices waiting for an
## ElevenLabs key when there is one now, start a task worker and serve
## on http://127.0.0.1:8000; Ctrl-C stops both (the worker without reloading, so it is the
## process that gets the signal and puts its current task back in the queue). runserver is
## WSGI: a streamed reply takes a thread while it is written; production runs uvicorn (README)
run: export DEBUG ?= true
run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py clone_waiting_voices
	$(PY) manage.py merge_search_indexes
	@$(PY) manage.py db_worker --interval 1 --no-reload & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

## worker: run background tasks (memory extraction) on their own, e.g. beside gunicorn.
## Stop it with SIGTERM or Ctrl-C: its current task goes back in the queue.
worker: $(VENV)/.runtime
	$(PY) manage.py db_worker --no-reload

## test: install the dev tools and run the whole suite (browser tests included)
test: $(VENV)/.dev
	$(PY) -m pytest --create-db $(PYTEST_ARGS)

## bench: seed 10k- and 1M-message databases (bench/.data/, reused; FRESH=1 reseeds) and print
## p50/p95 latencies of send, history and memory search side by side. Exits 0 whatever they are.
## PostgreSQL: make bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/mybella_bench
## Then serves the 10k database with the production server and loads each hot endpoint with
## `wrk` against a bare DRF view run right before and after it (make bench-http alone;
## BENCH_HTTP_ARGS="--seconds 30" or "--rounds 5": medians over the rounds), and
## last 50 replies streaming at once while the persona list is timed (bench/streams.py),
## and the time from a reply's first word to the first audio of its first sentence, with
## espeak-ng and the fake ElevenLabs (bench/speech.py; BENCH_SPEECH_ARGS="--runs 5").
bench: $(VENV)/.dev
	FRESH='$(FRESH)' DATABASE_URL='$(DATABASE_URL)' $(PY) -m bench.run $(BENCH_ARGS)
	FRESH='$(FRESH)' DATABASE_URL='$(DATABASE_URL)' $(PY) -m bench.http $(BENCH_HTTP_ARGS)
	DATABASE_URL='$(DATABASE_URL)' $(PY) -m bench.streams $(BENCH_STREAMS_ARGS)
	DATABASE_URL='$(DATABASE_URL)' $(PY) -m bench.speech $(BENCH_SPEECH_ARGS)

## bench-http: requests/s and p50/p95/p99 over HTTP (uvicorn, wrk -c8) vs a bare DRF view
## run around each endpoint (the noise: every bare run printed); about 3.5 minutes.
bench-http: $(VENV)/.dev
	FRESH='$(FRESH)' DATABASE_URL='$(DATABASE_URL)' $(PY) -m bench.http $(BENCH_HTTP_ARGS)

## bench-speech: time to first audio alone (espeak-ng, fake ElevenLabs), p50/p95 over runs.
bench-speech: $(VENV)/.dev
	DATABASE_URL='$(DATABASE_URL)' $(PY) -m bench.speech $(BENCH_SPEECH_ARGS)

## eval-memory: import each LoCoMo conversation of DATA (default ../shared/data/locomo-dev.json)
## as a persona's history in a throwaway database, ask its questions through memory recall
## and print evidence recall@5/@10/@20 per category beside a plain BM25 baseline, offline.
## EVAL_ARGS="--limit-conversations 2 --json out.json" or "--conversations 5-8". Exits 0 whatever the numbers.
eval-memory: $(VENV)/.runtime
	DATABASE_URL='$(DATABASE_URL)' $(PY) -m bench.eval_memory --data '$(DATA)' $(EVAL_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	test -d node_modules || npm ci --no-audit --no-fund
	npx --no-install eslint static/js

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles artifacts

# The two commands: `make run` (whole stack with a demo campaign) and `make test`.
.PHONY: run test lint format bench bench-fulfillment bench-lighthouse bench-polling bench-support messages

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

lint:
	bash -c 'source scripts/stack.sh && ensure_venv && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports'

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

bench:
	bash bench/run.sh

bench-fulfillment:
	bash bench/fulfillment.sh $(ARGS)

bench-lighthouse:
	bash bench/lighthouse.sh $(ARGS)

bench-polling:
	bash bench/polling.sh $(ARGS)

bench-support:
	bash bench/support.sh $(ARGS)

.PHONY: bench-bulk-reply
bench-bulk-reply:
	bash bench/bulk_reply.sh $(ARGS)

messages:
	.venv/bin/python manage.py makemessages -l ko --ignore=.venv --ignore=bench
	.venv/bin/python manage.py compilemessages --ignore=.venv

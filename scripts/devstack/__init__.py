"""Local development stack behind ``make up`` / ``make down``: stores, mail catcher, services on fixed ports.

Everything lives under ``.local/`` (data, logs, pid files, generated dev secrets) and runs detached, so the
stack outlives the command; ``down`` stops it through the pid files. Servers come from
``gigstack_testinfra.servers``: the launchers the tests use, here with fixed ports and persistent directories.

    uv run python -m scripts.devstack up --services "gateway auth notification users"
    uv run python -m scripts.devstack status
    uv run python -m scripts.devstack down
"""

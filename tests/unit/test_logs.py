"""Log lines are JSON, carry the request id and the actor, and never a secret."""

import json
import logging

import structlog

from adapters.logs import bind_context, configure_logging


def test_a_log_line_carries_request_and_actor_and_masks_secrets(capsys):
    configure_logging("json", "INFO")
    request_id = bind_context(actor="alice")
    logging.getLogger("relance.test").info(
        "connected", extra={"password": "hunter2", "url": "postgresql://u:hunter2@h/db"})
    structlog.get_logger("relance.test").info("login", session_token="abc123")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["connected", "login"]
    for line in lines:
        assert line["request_id"] == request_id
        assert line["actor"] == "alice"
        assert "hunter2" not in json.dumps(line)
        assert "abc123" not in json.dumps(line)

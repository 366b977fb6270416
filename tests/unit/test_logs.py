"""Log lines are JSON, carry the request id and the actor, and never a secret."""

import json
import logging

import structlog

from adapters.infra.logs import bind_context, configure_logging


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


def test_long_values_are_cut_and_public_ids_stay_readable(capsys):
    configure_logging("json", "INFO")
    bind_context(actor="alice", request_id="x" * 65)
    structlog.get_logger("relance.test").info(
        "checked", path="/" + "://a:b" * 20_000, session_id="3f2a9c1b7d04",
        session="secret-cookie", url="smtp://u:pw@h:25 " * 3)
    line = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert len(line["request_id"]) == 32                  # a client's overlong id replaced
    assert line["path"].endswith("[115905 more characters]")
    assert len(line["path"]) < 4200
    assert line["session_id"] == "3f2a9c1b7d04"
    assert line["session"] == "***"
    assert line["url"] == "smtp://u:***@h:25 " * 3

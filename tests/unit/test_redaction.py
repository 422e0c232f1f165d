"""Secrets never reach a log: the filter on every record, whatever carries the token."""

from __future__ import annotations

import logging

import pytest

from interp.server.access import REDACTED, RedactingFilter, redact_logs

SECRET = "s3cret-operator-token"


@pytest.fixture()
def redactor() -> RedactingFilter:
    found = RedactingFilter()
    found.secrets.add(SECRET)
    return found


@pytest.mark.parametrize(
    "line",
    [
        f"> Authorization: Bearer {SECRET}",
        f'< TEXT \'{{"token": "{SECRET}"}}\' [30 bytes]',
        f"> Cookie: theme=dark; interp_archive={SECRET}",
        f"> GET /?lang=fr&token={SECRET} HTTP/1.1",
        f"> GET /interpreter?token={SECRET}#top HTTP/1.1",
        f"the token is {SECRET}",
    ],
)
def test_each_way_a_token_travels_is_redacted(redactor: RedactingFilter, line: str) -> None:
    redacted = redactor.redact(line)
    assert SECRET not in redacted
    assert REDACTED in redacted


def test_a_token_nobody_configured_is_redacted_by_its_shape() -> None:
    shaped = RedactingFilter()  # knows no secret: the patterns alone must catch these
    for line in ("Bearer abc.def-123", '{"token":"abc"}', "/?token=abc&lang=en"):
        assert "abc" not in shaped.redact(line), line


def test_what_is_not_a_secret_stays(redactor: RedactingFilter) -> None:
    line = "> GET /ws/captions?lang=fr&since=12&session=20261203-101500 HTTP/1.1"
    assert redactor.redact(line) == line


def test_a_record_and_its_arguments_and_traceback_are_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redact_logs(SECRET)
    logger = logging.getLogger("websockets.server")
    with caplog.at_level(logging.DEBUG, logger="websockets.server"):
        logger.debug("> Authorization: Bearer %s", SECRET)
        try:
            raise ValueError(f"bad frame {{'token': '{SECRET}'}}")
        except ValueError:
            logger.exception("frame %s", SECRET)
    text = caplog.text
    assert SECRET not in text
    assert text.count(REDACTED) >= 3

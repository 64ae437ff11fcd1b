"""The settings object reads HUBLINE_* variables; --event-log's is HUBLINE_EVENT_LOG."""

from __future__ import annotations

from infra.settings import Settings

KAFKA = {"HUBLINE_DATABASE": "postgresql://hubline@127.0.0.1/hubline"}


def test_the_event_log_is_read_from_the_variable_named_after_its_option() -> None:
    settings = Settings.load(environ={**KAFKA, "HUBLINE_EVENT_LOG": "kafka"})
    assert settings.log == "kafka"


def test_the_old_name_is_still_read_and_the_new_one_wins() -> None:
    assert Settings.load(environ={**KAFKA, "HUBLINE_LOG": "kafka"}).log == "kafka"
    both = {**KAFKA, "HUBLINE_EVENT_LOG": "embedded", "HUBLINE_LOG": "kafka"}
    assert Settings.load(environ=both).log == "embedded"


def test_a_flag_wins_over_the_environment() -> None:
    settings = Settings.load({"log": "embedded"}, environ={**KAFKA, "HUBLINE_EVENT_LOG": "kafka"})
    assert settings.log == "embedded"

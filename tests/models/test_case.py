"""``models.case``: what an appealed case did about an instruction, said in the letters' languages."""

from __future__ import annotations

import re

import pytest

from models.case import ACTION_NOT_REOPENABLE, ACTION_REFUSED, ACTION_REOPENED, ACTIONS_SAID, action_said


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_action_is_said_in_the_letters_languages_with_its_values(lang: str) -> None:
    for english, said in ACTIONS_SAID.items():
        values = {name: f"<{name}-value>" for name in re.findall(r"{(\w+)}", english)}
        text = action_said(english.format(**values), lang)
        assert text == said[lang].format(**values) and text != english.format(**values)
        assert all(v in text for v in values.values())


def test_a_stage_is_named_in_the_language_and_other_texts_pass_unchanged() -> None:
    assert action_said(ACTION_REOPENED.format(stage="qualification_check"), "ru").endswith(
        "на этапе проверки соответствия квалификационным требованиям"
    )
    assert "permit_valid" in action_said(ACTION_NOT_REOPENABLE.format(status="permit_valid"), "kk")
    refused = ACTION_REFUSED.format(cause="reopen is not possible: the case is closed")
    assert action_said(refused, "kk").endswith(": reopen is not possible: the case is closed")
    assert action_said("a case's own words", "kk") == "a case's own words"
    assert action_said(ACTION_REOPENED.format(stage="x"), "en") == "reopened for a new decision at x"

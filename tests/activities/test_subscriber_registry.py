"""The subscriber register's local implementation (``activities.subscriber_registry``, 171 p.118): every number
registered to the subscriber."""

from __future__ import annotations

from activities.subscriber_registry import DEMO_SUBSCRIBERS, find_subscriber, seed_demo_subscribers


def test_registry_gives_every_number_of_the_subscriber() -> None:
    seed_demo_subscribers()
    assert seed_demo_subscribers() == 0  # seeding twice adds nothing
    demo = DEMO_SUBSCRIBERS[0]
    rec = find_subscriber(demo.numbers[-1])
    assert rec.found and (rec.surname, rec.name, rec.patronymic, rec.iin) == (
        demo.surname,
        demo.name,
        demo.patronymic,
        demo.iin,
    )
    assert rec.numbers == sorted(demo.numbers)
    unknown = find_subscriber("+77089999999")
    assert not unknown.found and unknown.numbers == ["+77089999999"] and unknown.iin is None

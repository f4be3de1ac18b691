"""Every scene of the corpus, in the order they are played. Each scene starts on an
empty database with the callers of ``KEYS`` and is recorded in its own file."""

from tests.corpus.scenes import (
    access,
    availability,
    health,
    locations,
    messages,
    pickups,
    reservations,
    staff_page,
    stock,
)
from tests.corpus.steps import Step

SCENES: dict[str, list[Step]] = {
    "health": health.STEPS,
    "locations": locations.STEPS,
    "stock": stock.STEPS,
    "availability": availability.STEPS,
    "reservations": reservations.STEPS,
    "pickups": pickups.STEPS,
    "staff-page": staff_page.STEPS,
    "access": access.STEPS,
    "reservation-messages": messages.RESERVATIONS,
    "stock-messages": messages.STOCK,
    "pickup-messages": messages.PICKUPS,
    "poison-messages": messages.POISON,
}

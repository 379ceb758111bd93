"""One EvoLink model of the catalogue: its endpoint, its fields' rules, price and lifetimes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from receiver.providers.evolink_catalogue.pricing import PriceRule
from receiver.providers.evolink_catalogue.rules import Rule

__all__ = ["DAY", "ENDPOINTS", "Entry", "Kind"]

Kind = Literal["video", "image", "audio"]

#: Where each kind of task is created (DOCS quickstart).
ENDPOINTS: Mapping[Kind, str] = {
    "video": "/v1/videos/generations",
    "image": "/v1/images/generations",
    "audio": "/v1/audios/generations",
}

#: How long EvoLink keeps most results downloadable (DOCS, every model page).
DAY = timedelta(hours=24)

#: The docs pages are at https://docs.evolink.ai/en/api-manual/<page>.
DOCS_BASE = "https://docs.evolink.ai/en/api-manual/"


@dataclass(frozen=True, kw_only=True)
class Entry:
    """What one model accepts and costs, field by field, as the reference documents it."""

    model: str
    kind: Kind
    #: The docs page's path under :data:`DOCS_BASE`.
    page: str
    #: Field name -> its rule; a field not named here is refused.
    fields: Mapping[str, Rule] = field(hash=False)
    #: The fields a request must give (``model`` is always given).
    required: tuple[str, ...] = ()
    #: Groups of fields of which a request must give at least one.
    at_least_one_of: tuple[tuple[str, ...], ...] = ()
    price: PriceRule | None = None
    #: How long the result links stay downloadable.
    link_lifetime: timedelta = DAY
    #: The facts the reference marks UNCONFIRMED, in words; their rules are lenient.
    unconfirmed: tuple[str, ...] = ()
    #: What a reviewer should know that the rules do not say (prose limits we do not check).
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (*self.required, *(name for group in self.at_least_one_of for name in group)):
            if name not in self.fields:
                raise ValueError(f"{self.model}: {name!r} is required but has no rule")

    @property
    def endpoint(self) -> str:
        return ENDPOINTS[self.kind]

    @property
    def url(self) -> str:
        return DOCS_BASE + self.page

    @property
    def defaults(self) -> Mapping[str, Any]:
        """The documented default of each field that has one."""
        return {
            name: rule.default for name, rule in self.fields.items() if rule.default is not None
        }

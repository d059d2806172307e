"""The scenario file's shape, as pydantic v2 models (docs/SCENARIOS.md).

pydantic checks what one key can say alone (types, ranges, unknown keys) and
reports a key path for each error, which the loader maps back to the file's
line (engine/scenario/loader.py). What needs the whole file (a state named
by a transition exists, every state is reachable, loops are bounded) is
checked after it, in engine/scenario/checks.py.

Every model is strict (TOML already has types: ``max_repeats = "3"`` is an
error, not a 3) and forbids unknown keys. Keys that take one of several
spellings (a name or a list of names, a number or a ``param`` table) are
normalised to one type *before* validation, so an error names the key and
what it expects instead of listing every branch of a union.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    model_validator,
)

from engine.domain.schemes import REFUSED, builtin, builtin_names
from engine.scenario.offsets import parse_offset

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""Names of flows, states, webhooks, API steps, templates, variables, params:
they appear inside ``{vars.NAME}`` placeholders, so identifiers only."""

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Weight = Annotated[float, Field(ge=0)]
Ratio = Annotated[float, Field(ge=0, le=1)]
JsonPath = Annotated[str, Field(pattern=r"^\$(\.[A-Za-z0-9_\-]+)*$")]
"""The dotted subset: ``$`` or ``$.a.b``; enough for every answer we read."""
_CLASSES = ("1xx", "2xx", "3xx", "4xx")


def _status_rule(value: object) -> object:
    """A status code or class an answer may have to count as expected; a 5xx
    is never one (a 5xx is never a success)."""
    if isinstance(value, str) and value in _CLASSES:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 499:
        return value
    raise ValueError(
        f"expected a status code 100-499 or a class '1xx'..'4xx' (a 5xx is never "
        f"accepted), got {value!r}"
    )


StatusRule = Annotated[int | str, BeforeValidator(_status_rule)]


class Strict(BaseModel):
    """Strict types, unknown keys refused, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# -- generators -------------------------------------------------------------


class _Offset(Strict):
    offset: str = ""

    @model_validator(mode="after")
    def _offset_parses(self) -> _Offset:
        parse_offset(self.offset)  # a ValueError names what is expected
        return self


class UuidGen(Strict):
    gen: Literal["uuid"]


class IdGen(Strict):
    gen: Literal["id"]
    prefix: str = ""
    length: Annotated[int, Field(ge=1, le=128)] = 24
    # the characters drawn from; None: letters and digits. Paddle's ids are lower case
    # (txn_01hv8wptq8987qeep44cyrewp9), so a provider's own pattern can be matched
    alphabet: Annotated[str | None, Field(min_length=2)] = None


class NowGen(_Offset):
    gen: Literal["now"]


class UnixGen(_Offset):
    gen: Literal["unix"]


class IntGen(Strict):
    gen: Literal["int"]
    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> IntGen:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class DecimalGen(Strict):
    gen: Literal["decimal"]
    min: float
    max: float
    places: Annotated[int, Field(ge=0, le=12)] = 2

    @model_validator(mode="after")
    def _ordered(self) -> DecimalGen:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class ChoiceGen(Strict):
    gen: Literal["choice"]
    values: Annotated[list[Any], Field(min_length=1)]
    weights: list[Weight] | None = None

    @model_validator(mode="after")
    def _weights_fit(self) -> ChoiceGen:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"{len(self.weights)} weights for {len(self.values)} values: one per value"
                )
            if not sum(self.weights) > 0:
                raise ValueError("the weights add up to 0")
        return self


Generator = Annotated[
    UuidGen | IdGen | NowGen | UnixGen | IntGen | DecimalGen | ChoiceGen,
    Discriminator("gen"),
]
GENERATORS = ("uuid", "id", "now", "unix", "int", "decimal", "choice")


# -- spellings normalised before validation ----------------------------------


def _one_or_list(value: object) -> object:
    """``body = "order"`` is ``body = ["order"]``."""
    return [value] if isinstance(value, str) else value


def _name_or_weights(value: object) -> object:
    """``initial = "created"`` is ``initial = { created = 1 }``."""
    return {value: 1.0} if isinstance(value, str) else value


def _number_or_param(value: object) -> object:
    """``probability = 0.1`` is ``probability = { default = 0.1 }``."""
    return {"default": value} if isinstance(value, int | float) else value


Names = Annotated[list[Name], BeforeValidator(_one_or_list), Field(min_length=1)]
Weights = Annotated[dict[Name, Weight], Field(min_length=1)]


# -- the file ---------------------------------------------------------------


def _scheme_name(name: str) -> str:
    """``sign``: a built-in signing scheme (engine/domain/schemes, docs/SIGNING.md)."""
    if name in REFUSED:
        raise ValueError(f"{name} cannot be signed: {REFUSED[name]}")
    if name not in builtin_names():
        raise ValueError(f"expected one of {', '.join(builtin_names())}")
    return name


class Meta(Strict):
    """``[scenario]``."""

    name: str | None = None
    description: str = ""
    event_id: Annotated[UuidGen | IdGen, Discriminator("gen")] = UuidGen(gen="uuid")
    correlation_header: str | None = None
    sign: Annotated[str, AfterValidator(_scheme_name)] | None = None  # a built-in scheme
    signature_header: str | None = None

    @model_validator(mode="after")
    def _renamable(self) -> Meta:
        if self.signature_header and self.sign and not builtin(self.sign).rename:
            fixed = builtin(self.sign).signature_header
            raise ValueError(
                f"signature_header: {self.sign}'s header {fixed} is fixed "
                "(signature_header renames stripe's)"
            )
        return self


class Accept(Strict):
    """Which answers count as the expected one, per kind of delivery; ``None``:
    today's rule (engine/scenario/expect.py)."""

    first: list[StatusRule] | None = None
    duplicate: list[StatusRule] | None = None
    early: list[StatusRule] | None = None


HeaderValue = str | dict[str, Any]
"""A header's value: a text template (``"{event_id}"``, ``"orders/{word}"``), or a
generator table drawn once per event (Shopify's ``X-Shopify-Webhook-Id``: an id of
its own), checked as a template's generators are (engine/scenario/checks.py)."""


class Webhook(Strict):
    """``[webhooks.NAME]``: where one kind of event is delivered."""

    method: Annotated[str, Field(pattern=r"^[A-Z]+$")] = "POST"
    path: Annotated[str, Field(pattern=r"^/")] | None = None
    url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    headers: dict[str, HeaderValue] = {}
    accept: Accept = Accept()
    aliases: list[Name] = []

    @model_validator(mode="after")
    def _one_place(self) -> Webhook:
        if (self.path is None) == (self.url is None):
            raise ValueError("give either path (joined to --target) or url, not both or neither")
        return self


class ApiStep(Strict):
    """``[api.NAME]``: a call to the service's own API whose answer binds variables."""

    method: Annotated[str, Field(pattern=r"^[A-Z]+$")] = "POST"
    url: str
    headers: dict[str, str] = {}
    body: Names | None = None
    accept: list[StatusRule] = ["2xx"]
    capture: dict[Name, JsonPath] = {}


class Probability(Strict):
    """A child's probability: a ``[params]`` entry (a run flag of the same name
    sets it), else ``default``."""

    param: Name | None = None
    default: Ratio | None = None

    @model_validator(mode="after")
    def _some_value(self) -> Probability:
        if self.param is None and self.default is None:
            raise ValueError("give a param name, a default, or a number")
        return self


class Child(Strict):
    flow: Name
    probability: Annotated[Probability, BeforeValidator(_number_or_param)] = Probability(
        default=1.0
    )


class State(Strict):
    """``[flows.F.states.S]``: one state, the request it sends, where it goes next."""

    webhook: Name | None = None
    api: Name | None = None
    body: Names | None = None
    next: dict[Name, Weight] = {}
    max_repeats: Annotated[int, Field(ge=1)] | None = None
    children: list[Child] = []
    # per-event headers (issue 22): text templates, over the webhook's own
    headers: dict[str, HeaderValue] = {}

    @model_validator(mode="after")
    def _one_request(self) -> State:
        if (self.webhook is None) == (self.api is None):
            raise ValueError("give either webhook or api, not both or neither")
        if self.webhook is not None and self.body is None:
            raise ValueError("a webhook state needs a body (a template name)")
        if self.api is not None and self.body is not None:
            raise ValueError("an api state takes its body from [api.NAME]")
        if self.api is not None and self.headers:
            raise ValueError("an api state takes its headers from [api.NAME]")
        return self

    @property
    def terminal(self) -> bool:
        return not self.next


class Read(Strict):
    """``[flows.F.read]``: the read-back and what ``--verify`` expects to see."""

    url: str
    status: JsonPath
    expect: dict[Name, str] = {}
    items: list[JsonPath] = []
    match: dict[JsonPath, str] = {}
    lists: list[str] = []


class Flow(Strict):
    """``[flows.NAME]``: a state machine."""

    label: str | None = None
    root: Annotated[float, Field(gt=0)] | None = None
    initial: Annotated[Weights, BeforeValidator(_name_or_weights)]
    max_repeats: Annotated[int, Field(ge=1)] | None = None
    vars: dict[Name, Any] = {}
    words: dict[Name, str] = {}
    outcome_labels: dict[Name, str] = {}
    states: Annotated[dict[Name, State], Field(min_length=1)]
    read: Read | None = None


class ScenarioFile(Strict):
    """The whole file."""

    scenario: Meta = Meta()
    params: dict[Name, float] = {}
    webhooks: dict[Name, Webhook] = {}
    api: dict[Name, ApiStep] = {}
    flows: Annotated[dict[Name, Flow], Field(min_length=1)]
    templates: dict[Name, dict[str, Any]] = {}

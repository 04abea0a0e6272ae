"""Dialogs that come before a run: the parameters form, and a yes/no confirmation."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.validation import Function, ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static

from flowtui.graph.model import ParameterSpec
from flowtui.run.params import parse_value


def default_text(spec: ParameterSpec) -> str:
    """How a parameter's default is written in its input box: as the runner reads it, so a
    `type=bool, default="false"` reads false (not the truthy string's "true") and a
    `type=int, default=2.0` reads 2 (which the box's own check accepts). A default the runner
    works out (a function, `config.alpha`) is left empty: its text is the box's placeholder."""
    if not spec.has_default or spec.default is None or spec.computed:
        return ""
    default = spec.default
    if spec.type in ("int", "float", "bool") and isinstance(default, str):
        try:
            default = parse_value(spec.type, default)
        except ValueError:
            return default  # as written: the box, and the runner, say what is wrong with it
    if spec.type == "int" and isinstance(default, float) and default.is_integer():
        default = int(default)
    if spec.type == "bool" or isinstance(default, bool):
        return "true" if default else "false"
    if spec.type == "json" and not isinstance(default, str):
        return json.dumps(default)
    return str(default)


def placeholder(spec: ParameterSpec) -> str:
    """What an empty box says: its type, or the expression its default is worked out from."""
    if spec.computed:
        return f"{spec.default} (as the run starts)"
    return type_label(spec)


def type_label(spec: ParameterSpec) -> str:
    if spec.kind == "include_file":
        return "file"
    return spec.type or "str"


def _parses(kind: str, value: str) -> bool:
    """The runner would accept `value` for a parameter of type `kind` (the same rule)."""
    try:
        parse_value(kind, value)
    except ValueError:
        return False
    return True


def value_validators(spec: ParameterSpec) -> list[Validator]:
    """Validators for one parameter's input: its type, and presence when required."""
    kind = type_label(spec)
    required = spec.required and not spec.has_default
    validators: list[Validator] = []
    if required:
        validators.append(Function(lambda v: bool(v.strip()), f"{spec.name} is required"))
    if kind in ("int", "float", "json", "bool"):
        article = "an" if kind == "int" else "a"
        noun = {"json": "JSON value", "bool": "true or false"}.get(kind, f"{kind}")
        message = (
            f"{spec.name} must be {noun}"
            if kind == "bool"
            else f"{spec.name} must be {article} {noun}"
        )
        validators.append(Function(lambda v: not v.strip() or _parses(kind, v), message))
    return validators


class ParametersScreen(ModalScreen[list[str] | None]):
    """A form with one input per `Parameter`, pre-filled with the value last run with
    (`remembered`, by parameter name) or else its default.

    Dismisses with the CLI arguments for the values the user changed (`["--alpha", "0.5"]`;
    unchanged defaults are left to the runner), or None when cancelled.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        flow_name: str,
        parameters: Sequence[ParameterSpec],
        remembered: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.flow_name = flow_name
        self.parameters = tuple(parameters)
        self.remembered = dict(remembered or {})
        self.values: dict[str, str] = {}
        """What the form was submitted with, by parameter name."""

    def compose(self) -> ComposeResult:
        with Vertical(id="params-box", classes="dialog"):
            yield Static(
                Text(f"Run {self.flow_name} with parameters", style="bold"), classes="dialog-title"
            )
            with VerticalScroll(id="params-fields"):
                for spec in self.parameters:
                    label = Text.assemble((spec.name, "bold"), f"  ({type_label(spec)})")
                    if spec.required and not spec.has_default:
                        label.append("  required")
                    yield Label(label, classes="param-label")
                    if spec.help:
                        yield Label(Text(spec.help), classes="param-help")
                    yield Input(
                        value=self.remembered_value(spec),
                        placeholder=placeholder(spec),
                        validators=value_validators(spec),
                        id=f"param-{spec.attr}",
                        classes="param-input",
                    )
            yield Static("", id="params-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run", variant="primary", id="params-run")
                yield Button("Cancel", id="params-cancel")

    def remembered_value(self, spec: ParameterSpec) -> str:
        """The value last run with, else the default's text. An expression's own text, which
        the form once filled in for a default worked out by the runner, is not a value."""
        value = self.remembered.get(spec.name, default_text(spec))
        return "" if spec.computed and value == str(spec.default) else value

    def on_mount(self) -> None:
        inputs = self.query(Input)
        if inputs:
            inputs.first().focus()
        else:
            self.query_one("#params-run", Button).focus()

    def validate_all(self) -> list[str]:
        """Failure messages of every input (empty when the form can be submitted)."""
        messages: list[str] = []
        for spec in self.parameters:
            field = self.query_one(f"#param-{spec.attr}", Input)
            result: ValidationResult | None = field.validate(field.value)
            if result is not None and not result.is_valid:
                messages.extend(result.failure_descriptions)
        return messages

    def cli_arguments(self) -> list[str]:
        args: list[str] = []
        for spec in self.parameters:
            value = self.query_one(f"#param-{spec.attr}", Input).value
            if value != default_text(spec) or (spec.required and not spec.has_default):
                args += [f"--{spec.name}", value]
        return args

    def submit(self) -> None:
        problems = self.validate_all()
        self.query_one("#params-error", Static).update(Text("\n".join(problems)))
        if not problems:
            self.values = {
                spec.name: self.query_one(f"#param-{spec.attr}", Input).value
                for spec in self.parameters
            }
            self.dismiss(self.cli_arguments())

    @on(Input.Submitted)
    @on(Button.Pressed, "#params-run")
    def on_run(self) -> None:
        self.submit()

    @on(Button.Pressed, "#params-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A question with a yes and a no; `y`/enter confirm, `n`/escape decline."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n,escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: Text | str, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question = question if isinstance(question, Text) else Text(question)
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="dialog"):
            yield Static(self.question, id="confirm-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, variant="primary", id="confirm-yes")
                yield Button(self.no, id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-yes", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def on_button(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

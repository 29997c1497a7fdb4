"""Jinja2 rendering of the email templates in ``adapters/templates``.

HTML is autoescaped (payload fields such as usernames are user-controlled); text and subject are not HTML, so
they are left alone, and the subject is folded to one line because it becomes a header.
StrictUndefined turns a field the template needs but the event lacks into an error instead of a blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from notification_service.domain.errors import UndeliverableEmailError
from notification_service.domain.model import RenderedEmail

TEMPLATE_DIR = Path(__file__).parent / "templates"
MAX_SUBJECT_LENGTH = 200


class JinjaEmailRenderer:
    def __init__(self, template_dir: Path = TEMPLATE_DIR, *, product_name: str = "Gigstack") -> None:
        self._environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(template_dir),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self._environment.globals["product_name"] = product_name

    def render(self, template: str, fields: Mapping[str, Any]) -> RenderedEmail:
        try:
            subject = self._environment.get_template(f"{template}.subject.txt").render(fields)
            text = self._environment.get_template(f"{template}.txt").render(fields)
            html = self._environment.get_template(f"{template}.html").render(fields)
        except jinja2.TemplateNotFound as exc:
            raise UndeliverableEmailError(f"unknown template: {template!r} has no file {exc.name!r}") from exc
        except jinja2.UndefinedError as exc:
            raise UndeliverableEmailError(f"template {template!r} cannot be filled: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            reason = f"template {template!r} failed to render: {type(exc).__name__}"
            raise UndeliverableEmailError(reason) from exc
        return RenderedEmail(subject=_one_line(subject)[:MAX_SUBJECT_LENGTH], text=text, html=html)


def _one_line(value: str) -> str:
    return " ".join(value.split())

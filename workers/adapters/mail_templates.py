"""The order emails: subjects, HTML and text from Jinja2 templates, and the finished message."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from models.domain.mail import SUBJECTS, EmailView, Mail, base_kind

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"

# StrictUndefined: a misspelt or missing variable fails the render instead of mailing a gap.
# Each template is compiled on first use and kept; the files ship with the code and do not
# change under a running worker, so no render asks the file system whether they did.
ENVIRONMENT = Environment(
    auto_reload=False,
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_view(view: EmailView, kind: str) -> Mail:
    """The subject, text and HTML of the `kind` email for an order's view."""
    kind = base_kind(kind)
    subject = SUBJECTS[kind].format(short=view.order_id[:8])
    values = {"view": view, "subject": subject, "kind": kind}
    text = ENVIRONMENT.get_template(f"{kind}.txt.j2").render(values)
    html = ENVIRONMENT.get_template(f"{kind}.html.j2").render(values)
    return Mail(subject, text, html)


class TemplateRenderer:
    """The mail renderer port, with the Jinja2 templates in workers/templates/email/."""

    def render(self, view: EmailView, kind: str) -> Mail:
        """The `kind` email for the view."""
        return render_view(view, kind)

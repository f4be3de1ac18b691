"""Server-rendered pages: Litestar's Jinja2 engine over ``templates/``, and the page's
style sheet from ``static/``.

Autoescaping is on for every template (``JinjaTemplateEngine`` sets it): whatever a
customer typed into a booking is text on the page, never markup. Undefined names fail
loudly instead of rendering as nothing. Times are shown in the store's own time zone
(``clock``), wherever the service runs.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from service.api.staff_security import PageHeaders

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/staff/static"


def clock(moment: datetime, timezone: str) -> str:
    """``moment`` as the store's wall clock shows it: 14:30."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%H:%M")


def _configure(engine: JinjaTemplateEngine) -> None:
    engine.engine.undefined = StrictUndefined
    engine.engine.trim_blocks = True
    engine.engine.lstrip_blocks = True
    engine.engine.filters["clock"] = clock


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_configure
    )


def static_assets() -> ControllerRouterHandler:
    """The staff page's style sheet (a file, so the page's CSP needs no inline style)."""
    return create_static_files_router(
        path=STATIC_PATH, directories=[STATIC], include_in_schema=False, middleware=[PageHeaders]
    )

"""WSGI entry point for gunicorn."""

import logging
import os
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()


def warm_up() -> None:
    """Do once, before serving, what each process would otherwise do on its first requests:
    import every view (the URLconf), load the bank holidays and compile every template of the
    project's template directories. gunicorn's master calls it (``when_ready`` in
    config/gunicorn.conf.py), so each worker it forks starts warm. It opens no database
    connection: a forked worker must not share one with its master."""
    from pathlib import Path

    from django.conf import settings
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template
    from django.urls import get_resolver

    from escalations.working_time import load_bank_holidays

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf and every view)
    load_bank_holidays()  # every stage clock and case page counts working days
    directories: list[Any] = settings.TEMPLATES[0]["DIRS"]  # type: ignore[assignment]
    for directory in directories:
        root = Path(directory)
        for path in sorted(root.rglob("*.html")):
            try:
                get_template(path.relative_to(root).as_posix())
            except (TemplateDoesNotExist, TemplateSyntaxError) as error:
                # Served as the error it is on first use, as it would be without warming.
                logging.getLogger(__name__).warning("template %s not warmed: %s", path, error)

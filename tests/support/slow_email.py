"""An e-mail backend that takes its time, like a slow SMTP server, then writes each message
to its own file, so a test can kill the worker mid-delivery and count what was sent.

A message counts as sent only once it is whole, as with SMTP (a message cut off before the
final "." is not delivered): each is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        for message in email_messages:
            time.sleep(0.15)
            key = f"{','.join(message.to)}|{message.subject}"
            name = uuid.uuid4().hex
            partial = folder / f"{name}.partial"
            partial.write_text(key)
            partial.rename(folder / f"{name}.eml")
        return len(email_messages)

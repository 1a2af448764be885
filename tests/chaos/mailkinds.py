"""Which order and which kind of mail a received message is, read from its subject and recipient."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from tests.chaos.facts import MailRow, OrderRow

SHORT_ID = "(?P<short>[0-9a-f]{8})"


def subject_patterns(subjects: Mapping[str, str]) -> list[tuple[str, re.Pattern[str]]]:
    """A pattern per kind of mail, from the subject templates with `{short}` for the order."""
    return [
        (kind, re.compile("^" + re.escape(template).replace(re.escape("{short}"), SHORT_ID) + "$"))
        for kind, template in subjects.items()
    ]


class MailReader:
    """Tells received messages apart by order and kind, without trusting their Message-ID."""

    def __init__(self, subjects: Mapping[str, str], orders: Iterable[OrderRow]) -> None:
        """A reader for these subject templates and these orders."""
        self._patterns = subject_patterns(subjects)
        self._by_short: dict[str, list[OrderRow]] = defaultdict(list)
        for order in orders:
            self._by_short[order.order_id[:8]].append(order)

    def read(self, subject: str, recipients: Sequence[str], message_id: str) -> MailRow | None:
        """The mail's order and kind; None for a mail about no known order (a stock alert)."""
        for kind, pattern in self._patterns:
            match = pattern.match(subject.strip())
            if match is None:
                continue
            candidates = self._by_short.get(match["short"], [])
            if len(candidates) > 1:
                # Two orders sharing the first eight digits: the customer's address decides.
                wanted = {r.lower() for r in recipients}
                candidates = [o for o in candidates if o.email.lower() in wanted] or candidates
            if candidates:
                return MailRow(candidates[0].order_id, _with_instance(kind, message_id), message_id)
            return None
        return None


def _with_instance(kind: str, message_id: str) -> str:
    """The kind with the instance its Message-ID names ('shipped#2' for part 2 of an order that
    ships in parts): the subject is the base kind's, the same for every instance."""
    local = message_id.strip().lstrip("<").split("@", 1)[0]
    named, _, _ = local.partition(".")
    return named if named.startswith(f"{kind}#") else kind

"""Every read model relance keeps."""

from __future__ import annotations

from projections.case_view import CaseView, Planning
from projections.debtors import Debtors
from projections.dispatches import Dispatches
from projections.history import History
from projections.mail import Mail
from projections.portal import Portal
from projections.schema import Projection
from projections.search import Search
from projections.trends import Trends


def all_projections(planning: Planning) -> list[Projection]:
    """The projections, in the order they are applied."""
    return [CaseView(planning), History(), Debtors(), Dispatches(), Search(), Trends(), Mail(),
            Portal()]

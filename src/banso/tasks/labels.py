"""How a task's status and owner type read, for every page, export and mail that shows a task."""

from __future__ import annotations

from banso.i18n import N_

STATUS_LABELS = {
    "open": N_("Open"),
    "in_progress": N_("In progress"),
    "done": N_("Done"),
    "cancelled": N_("Cancelled"),
}
# Whose task it is (M18): the customer's side (お客様), ours (当社) or both (共同).
OWNER_LABELS = {"customer": N_("Customer side"), "us": N_("Our side"), "joint": N_("Joint")}

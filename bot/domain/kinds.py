"""Touch kinds (DOMAIN.md "Touch kinds") and the sets the rules speak of, each defined once."""

from __future__ import annotations

#: Never capped, but counted towards the quarterly cap.
MANDATORY_KINDS = frozenset({"new_account", "asset_movement", "account_closed", "rep_departure",
                             "complaint_followup", "sampling"})
#: Recorded `capped` once the quarter's cap is reached.
DISCRETIONARY_KINDS = frozenset({"dormancy", "post_trade"})
CAP_COUNTED_KINDS = MANDATORY_KINDS | DISCRETIONARY_KINDS
GREETING_KINDS = frozenset({"holiday", "birthday"})
#: Need marketing consent and carry an opt-out.
MARKETING_KINDS = GREETING_KINDS | {"dormancy", "tier_care"}
#: Service messages: sent at least once, never bundled, no consent needed.
SERVICE_KINDS = frozenset({"asset_movement"})
#: Kinds whose silence or doubt ends with a person: a missed day moves them to the next
#: working day, no channel left hands them to a callback, an unsure answer is a P2 callback.
CALLBACK_TYPE_KINDS = frozenset({"new_account", "dormancy", "asset_movement", "account_closed",
                                 "rep_departure", "complaint_followup"})
#: The message asks a question; no answer by the deadline becomes `unanswered`.
REPLY_EXPECTED_KINDS = frozenset({"new_account", "dormancy", "asset_movement"})
#: Go only to active customers (a closed or frozen account gets none of these).
ACTIVE_ONLY_KINDS = GREETING_KINDS | {"dormancy", "new_account", "post_trade", "tier_care"}
#: Ask the customer to confirm an action on their account: a bare denial ("不是我", "no")
#: answering one of these means someone else did it.
IDENTITY_KINDS = frozenset({"new_account", "asset_movement", "account_closed"})
#: Ask nothing: a denial answering one of these means the message reached the wrong person.
NO_QUESTION_KINDS = GREETING_KINDS | {"tier_care"}
NEW_ACCOUNT_KEY = "new_account"

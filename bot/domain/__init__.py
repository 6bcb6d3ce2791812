"""The business rules, standard library only: touch kinds, planning rules, the calendar,
festivals, callbacks and escalation, access rules, masking, and reply understanding."""

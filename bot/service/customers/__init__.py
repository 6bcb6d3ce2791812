"""Customers: the masked view staff see, the CSV import, marketing consent, address usability.

`consent` is the one place consent changes (keywords, sentences, one-click unsubscribe);
`addresses` is the one place an address becomes unusable, wrong-person or usable again.
May import the shared service modules (`events`); nothing of the other packages.
"""

"""Touch planning: set-based SQL per rule, bundling, the sweep (silence → callback) and capacity.

May import `callbacks` and the shared service modules.
"""

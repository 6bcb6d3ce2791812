"""Touch planning: set-based SQL per rule, bundling, sweep and capacity."""

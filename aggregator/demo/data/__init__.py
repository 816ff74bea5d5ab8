"""Word lists for the demo catalogue: places, shop names, products."""

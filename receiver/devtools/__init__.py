"""Development and test tools, never part of a deployment: the provider simulator
(``receiver simulator``), running SeaweedFS from its PyPI wheel, and ``receiver dev``.

The service's own code never imports this package (an import contract in ``make lint``).
"""

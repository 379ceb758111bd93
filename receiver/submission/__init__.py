"""Submitting jobs the way people work: local first-frame images, multi-shot prompts, batches
from a file, cost estimates and a daily budget.

``spec`` turns what a person wrote (a command line, a CSV row, a JSON body) into a provider
request; ``images`` checks and stages local first frames; ``shots`` writes the in-prompt shot
syntax; ``cost`` and ``budget`` price jobs and hold the daily limit; ``rows`` reads batch
files; ``batch`` submits many jobs at once, sharing one ``pacing`` of the provider's 429s.

Nothing is imported here: ``receiver.providers`` uses ``shots`` and must not pull in the rest.
"""

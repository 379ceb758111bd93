"""``receiver doctor``: checks the whole deployment and says what to fix.

Each check is small and ends as one :class:`Finding`: ok, warn (works, but not as it should
in production) or fail, with a one-line fix. The settings are judged by pure functions
(:mod:`~receiver.doctor.settings_checks`); what needs the outside world is asked by
:mod:`~receiver.doctor.probes`, which return plain facts, and judged by the pure functions of
:mod:`~receiver.doctor.judges`. The exit status says whether the deployment is healthy: no
failure (and, with ``--strict``, no warning either).

The round trip is the check nothing else can do: a callback POSTed through
``RECEIVER_PUBLIC_URL`` must be answered by a receiver holding our signing keys, and what it
wrote down must be in our database: so the provider's callbacks reach *this* receiver.
"""

from receiver.doctor.findings import Finding, Report, Status
from receiver.doctor.run import run_doctor

__all__ = ["Finding", "Report", "Status", "run_doctor"]

"""What jobs cost: ``receiver costs`` and the price lines of ``submit --dry-run``."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import TYPE_CHECKING

from receiver.cli._common import context, duration, print_json
from receiver.compat.stdlib_internals import SubParsers
from receiver.config import Settings

if TYPE_CHECKING:
    from receiver.context import Context
    from receiver.submission.budget import BudgetState
    from receiver.submission.spec import PreparedJob

__all__ = ["add_costs", "budget_line", "budget_state", "price_line"]


def add_costs(commands: SubParsers) -> None:
    costs = commands.add_parser(
        "costs",
        help="credits spent, by model or by day",
        description="Credits of the jobs created in the period: what the provider reserved "
        "for each, or our estimate until it says. Refused submissions cost nothing; jobs "
        "with no price at all are counted apart, never as 0.",
    )
    costs.add_argument(
        "--since", type=duration, default=timedelta(days=30), help="period, e.g. 24h, 7d (30d)"
    )
    costs.add_argument("--by", choices=["model", "day"], default="model", help="group by")
    costs.add_argument("--json", action="store_true", help="print JSON")
    costs.set_defaults(run=_costs)


def _costs(settings: Settings, args: argparse.Namespace) -> int:
    from receiver import clock
    from receiver.submission import cost

    with context(settings) as ctx:
        lines = cost.spending(ctx, since=clock.now() - args.since, by=args.by)
        budget = budget_state(ctx)
    total = round(sum(line.credits for line in lines), 2)
    unpriced = sum(line.unpriced_jobs for line in lines)
    if args.json:
        print_json(
            {
                "by": args.by,
                "since_seconds": args.since.total_seconds(),
                "groups": [line.as_json(args.by) for line in lines],
                "total_credits": total,
                "unpriced_jobs": unpriced,
                "budget": budget.as_json() if budget else None,
            }
        )
        return 0
    width = max([len(line.key) for line in lines] + [len(args.by), 5])
    columns = f"{args.by:<{width}}  {'jobs':>6}  {'credits':>10}"
    print(f"{columns}  {'unpriced':>8}" if unpriced else columns)
    for line in lines:
        credits = f"{line.credits:>10.2f}" if line.priced else f"{'n/a':>10}"
        row = f"{line.key:<{width}}  {line.jobs:>6}  {credits}"
        print(f"{row}  {line.unpriced_jobs:>8}" if unpriced else row)
    row = f"{'total':<{width}}  {sum(line.jobs for line in lines):>6}  {total:>10.2f}"
    print(f"{row}  {unpriced:>8}" if unpriced else row)
    if estimated := sum(line.estimated_jobs for line in lines):
        print(f"({_jobs(estimated)} at our estimate: the provider has not said what it reserved)")
    if unpriced:
        print(f"({_jobs(unpriced)} with no price at all: unknown credits, not in the total)")
    if budget is not None:
        print(budget_line(budget))
    return 0


def _jobs(count: int) -> str:
    return f"{count} job" if count == 1 else f"{count} jobs"


def budget_state(ctx: Context) -> BudgetState | None:
    from receiver.submission.budget import budget_today

    return budget_today(ctx.db, ctx.settings.max_credits_per_day)


def budget_line(budget: BudgetState, *, cost: float | None = None, unpriced: int = 0) -> str:
    """Today's budget; with ``cost`` (priced credits) and ``unpriced`` (jobs without a price),
    what a dry run's jobs would do to it."""
    line = (
        f"today (UTC): {budget.spent_today:g} of {budget.limit:g} credits spent "
        "(RECEIVER_MAX_CREDITS_PER_DAY)"
    )
    if cost is not None and (cost or not unpriced):
        if budget.fits(cost):
            line = f"{line}; {round(budget.remaining - cost, 2):g} would remain"
        else:
            line = f"{line}; {cost:g} more would be refused"
    if unpriced:
        line = f"{line}; {_jobs(unpriced)} without a price would be refused"
    return line


def price_line(prepared: PreparedJob) -> str:
    request = prepared.request
    credits = "unknown credits" if prepared.credits is None else f"{prepared.credits:g} credits"
    if request.params:
        # A catalogue (or unknown) model: its body's fields say what is made, not the
        # duration and quality every video model shares.
        fields = ", ".join(
            f"{name}={value}"
            for name, value in sorted(request.params.items())
            if name not in {"prompt", "model"}
        )
        return f"{request.model} ({fields}): {credits}"
    return f"{request.model}, {request.duration} s at {request.quality}: {credits}"

"""receiver's benchmarks: ``make bench`` (``python -m bench [SCENARIO ...]``).

Each scenario runs receiver and a named baseline side by side in the same run, on the same
machine, with the same load, and reports ratios against targets; the figures also go to
``docs/benchmarks.md`` with a description of the machine. Timings are reported, never
asserted: this is not a test suite.

Scenarios:

- ``ack`` (:mod:`bench.ack`): signed callbacks against ``receiver serve`` versus a no-op
  endpoint: latency at 1,000/s (open loop) and throughput at saturation.
- ``archive`` (:mod:`bench.archive`): videos served by Caddy, archived into SeaweedFS by a
  real ``receiver worker`` versus ``rclone copyurl``: throughput, CPU-seconds per GB, peak
  memory, and every stored object read back and compared with its source.
"""

"""Reading mail and attachments where a hostile message can cost only a worker process.

`harness` is the one worker boundary (limits, recycling, death, timeouts,
framing; `Workers`, or `InProcess` without isolation), `wire` what crosses
it and its codec (msgspec), `work` what a job does.
"""

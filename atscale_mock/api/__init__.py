"""The library's entry points, re-exported by :mod:`atscale_mock`:

    options.py  frozen option records (Signing, Retry; Faults from delivery) and
                the seed/clock precedence
    results.py  typed results (SendResult, DeliveryRecord) with ``to_json()``; their
                summaries are typed records (delivery/summary.DeliverySummary,
                load/summary.LoadSummary)
    target.py   where deliveries go: a URL, or "local" (the built-in receiver)
    send.py     payload(), send()/asend(), demo()
    send_plan.py what one send-like call delivers (SendPlan) and collects (Collector)
    signing.py  sign_headers() for a request of your own
    scenario.py run()/arun(), plan()
    replay.py   replay()
    load.py     load()

Nothing here prints, exits, installs signal handlers or touches the garbage collector
of the caller's process; progress goes to optional callbacks.
"""

"""A Generic Connector + Finesse stand-in that speaks the GC dialect on a broker.

    data     Finesse REST XML (User, ReasonCodes, WrapUpReasons) -> sample agents, reasons
    model    pure Finesse agent/dialog model, UCCE and UCCX rules: messages in, outputs out
    runner   the model over any BrokerLink (memory:// or ActiveMQ), timers from a clock
"""

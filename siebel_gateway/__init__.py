"""siebel_gateway: a Siebel CTI (SCAPI) driver served over TCP, bridged to a Generic Connector.

Map of the package (layers run one way, top to bottom)::

    cli            siebel-gateway <subcommand>
    def_file/      DEF parser, model, validator, writer, macros, handler evaluation
    gc/            the Generic Connector dialect and its codec        (issue 3)
    core/          sans-IO driver sessions, SCS wire protocol         (issue 4)
    adapters/      Twisted and stomp.py shells                        (issues 3, 4)
    simulator/     GC + Finesse stand-in                              (issue 3)
    trace/, console/                                                  (issue 5)
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

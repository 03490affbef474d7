"""``BrokerMessage`` as the core's public name (it lives in ``gc.messages``, beside the
codec that builds it, so ``gc`` never imports ``core``)."""

from __future__ import annotations

from ..gc.messages import BrokerMessage

__all__ = ["BrokerMessage"]

"""ML2 mechanism driver that binds every port on any host, no agent needed.

Ports become ACTIVE as soon as they are bound, so Nova gets its
network-vif-plugged event and never sees 'binding_failed'.
"""
from neutron_lib.api.definitions import portbindings
from neutron_lib.callbacks import events
from neutron_lib.callbacks import registry
from neutron_lib.callbacks import resources
from neutron_lib import constants as const
from neutron_lib.plugins.ml2 import api
from oslo_log import log

from saharagen_testbed import fip

LOG = log.getLogger(__name__)


def _fip_event(resource, event, trigger, payload=None):
    """Plumb/unplumb floating IPs of testbed instances right away."""
    try:
        states = payload.states
        old = states[0] if event in (events.AFTER_UPDATE,
                                     events.AFTER_DELETE) else None
        new = states[-1] if event in (events.AFTER_CREATE,
                                      events.AFTER_UPDATE) else None
        if event == events.AFTER_DELETE:
            new = None
        old_port = (old or {}).get("port_id")
        new_port = (new or {}).get("port_id")
        if old_port and old_port != new_port:
            fip.disassociate(old_port, str(old["floating_ip_address"]))
        if new_port and (new_port != old_port or event == events.AFTER_CREATE):
            if fip.associate(new_port, str(new["floating_ip_address"])):
                LOG.info("testbed: floating ip %s -> port %s",
                         new["floating_ip_address"], new_port)
    except Exception:
        LOG.exception("testbed: floating ip event failed")


class FakeBindMechanismDriver(api.MechanismDriver):

    def initialize(self):
        for ev in (events.AFTER_CREATE, events.AFTER_UPDATE,
                   events.AFTER_DELETE):
            registry.subscribe(_fip_event, resources.FLOATING_IP, ev)
        LOG.info("saharagen testbed fakebind mechanism driver loaded")

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        vnic = context.current.get(portbindings.VNIC_TYPE,
                                   portbindings.VNIC_NORMAL)
        if vnic != portbindings.VNIC_NORMAL:
            return
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID],
                                portbindings.VIF_TYPE_TAP,
                                {portbindings.CAP_PORT_FILTER: False},
                                status=const.PORT_STATUS_ACTIVE)
            return

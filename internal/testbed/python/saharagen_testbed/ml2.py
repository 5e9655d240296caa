"""ML2 mechanism driver that binds every port on any host, no agent needed.

Ports become ACTIVE as soon as they are bound, so Nova gets its
network-vif-plugged event and never sees 'binding_failed'.
"""
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants as const
from neutron_lib.plugins.ml2 import api
from oslo_log import log

LOG = log.getLogger(__name__)


class FakeBindMechanismDriver(api.MechanismDriver):

    def initialize(self):
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

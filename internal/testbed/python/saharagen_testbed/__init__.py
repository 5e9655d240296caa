"""saharagen testbed: small out-of-tree drivers for a CI-only OpenStack.

ml2.FakeBindMechanismDriver  - binds every port without any L2 agent
virt.TestbedDriver           - Nova fake driver whose servers are isolated,
                               SSH-reachable "instances" (namespaces)
cinder.SparseFileDriver      - Cinder driver backing volumes with sparse files
"""

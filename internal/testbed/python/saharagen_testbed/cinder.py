"""Cinder volume driver for the saharagen testbed: every volume is a sparse
file under VOLDIR.  initialize_connection hands the file's path to Nova
(driver_volume_type 'local', data.device_path); the testbed's Nova driver
loop-mounts it and creates the block device inside the instance.

  [backend] volume_driver = saharagen_testbed.cinder.SparseFileDriver
"""
import os
import shutil

from cinder.tests import fake_driver
from cinder.volume import volume_utils

VOLDIR = os.environ.get("SAHARAGEN_TESTBED_VOLUMES",
                        "/var/lib/saharagen-testbed/volumes")


def _path(volume):
    return os.path.join(VOLDIR, "volume-%s" % volume["id"])


class SparseFileDriver(fake_driver.FakeLoggingVolumeDriver):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.backend_name = "testbed"
        self.protocol = "local"

    def do_setup(self, context):
        os.makedirs(VOLDIR, exist_ok=True)

    @volume_utils.trace_method
    def create_volume(self, volume):
        os.makedirs(VOLDIR, exist_ok=True)
        with open(_path(volume), "wb") as f:
            f.truncate(int(volume["size"]) * 1024 ** 3)
        return None

    @volume_utils.trace_method
    def delete_volume(self, volume):
        try:
            os.unlink(_path(volume))
        except FileNotFoundError:
            pass

    @volume_utils.trace_method
    def extend_volume(self, volume, new_size):
        with open(_path(volume), "r+b") as f:
            f.truncate(int(new_size) * 1024 ** 3)

    def _copy(self, src, volume):
        shutil.copyfile(src, _path(volume))
        self.extend_volume(volume, volume["size"])

    @volume_utils.trace_method
    def create_cloned_volume(self, volume, src_vol):
        self._copy(_path(src_vol), volume)

    @volume_utils.trace_method
    def create_snapshot(self, snapshot):
        shutil.copyfile(_path(snapshot.volume),
                        os.path.join(VOLDIR, "snapshot-%s" % snapshot.id))

    @volume_utils.trace_method
    def delete_snapshot(self, snapshot):
        try:
            os.unlink(os.path.join(VOLDIR, "snapshot-%s" % snapshot.id))
        except FileNotFoundError:
            pass

    @volume_utils.trace_method
    def create_volume_from_snapshot(self, volume, snapshot):
        self._copy(os.path.join(VOLDIR, "snapshot-%s" % snapshot.id), volume)

    @volume_utils.trace_method
    def initialize_connection(self, volume, connector):
        conn = super().initialize_connection(volume, connector)
        data = dict(conn.get("data") or {})
        data.update(device_path=_path(volume), volume_id=volume["id"])
        return {"driver_volume_type": "local", "data": data}

    def _update_volume_stats(self):
        super()._update_volume_stats()
        self._stats["storage_protocol"] = "local"
        for p in self._stats["pools"]:
            p["pool_name"] = "testbed"
            p["reserved_percentage"] = 0

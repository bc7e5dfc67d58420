"""The miniature cluster's Slurm configuration (image/slurm_config.py), from the snapshot's partitions."""

import pytest

from image.slurm_config import SlurmConfigError, config_files, node_groups
from macros.system_snapshot import load_snapshot

# A provisional list in the snapshot's shape, independent of the snapshot's current values.
PARTITIONS = [
    {"name": "small", "max_time": "3-00:00:00", "max_nodes": 4, "cpus_per_node": 128,
     "memory_mb": 262144, "gpus_per_node": 0},
    {"name": "standard", "max_time": "2-00:00:00", "max_nodes": 512, "cpus_per_node": 128,
     "memory_mb": 262144, "gpus_per_node": 0},
    {"name": "largemem", "max_time": "1-00:00:00", "max_nodes": 1, "cpus_per_node": 128,
     "memory_mb": 4194304, "gpus_per_node": 0},
    {"name": "standard-g", "max_time": "2-00:00:00", "max_nodes": 1024, "cpus_per_node": 64,
     "memory_mb": 524288, "gpus_per_node": 8},
]


def test_partitions_with_the_same_hardware_share_nodes():
    groups = node_groups(PARTITIONS)
    assert [names for _, _, names in groups] == [["small", "standard"], ["largemem"], ["standard-g"]]
    assert [len(nodes) for _, nodes, _ in groups] == [2, 1, 2]


def test_slurm_conf_carries_each_partitions_limits_and_gpus():
    files = config_files(PARTITIONS, ["project_465000123"])
    conf = files["slurm.conf.in"]
    assert "PartitionName=standard-g Nodes=nid003000,nid003001 MaxTime=2-00:00:00 MaxNodes=1024" in conf
    assert "PartitionName=largemem Nodes=nid002000 MaxTime=1-00:00:00 MaxNodes=1 " in conf
    assert "NodeName=nid003000 NodeHostname=uan01 NodeAddr=127.0.0.1 Port=@PORT_nid003000@ " \
           "CPUs=64 RealMemory=524288 Gres=gpu:mi250:8" in conf
    assert "Default=YES" not in conf  # LUMI has no default partition
    assert "File=/usr/share/lumi-node/no-gpu/renderD[128-135]" in files["gres.conf"]
    assert files["nodes"].split() == ["nid001000", "nid001001", "nid002000", "nid003000", "nid003001"]
    assert '["project_465000123"] = true' in files["job_submit.lua"]


def test_the_snapshot_partitions_make_a_configuration():
    partitions = load_snapshot().slurm_partitions()
    conf = config_files(partitions, ["project_465000123"])["slurm.conf.in"]
    for part in partitions:
        assert f"PartitionName={part['name']} " in conf


@pytest.mark.parametrize("change, message", [
    ({"max_time": "3 days"}, "slurm.partitions[0] (small): max_time '3 days' is not [D-]HH:MM:SS"),
    ({"gpus_per_node": -1}, "slurm.partitions[0] (small): gpus_per_node -1 is not a count"),
    ({"name": "Small Nodes"}, "slurm.partitions[0]: name 'Small Nodes' is not a new partition name"),
])
def test_a_bad_partition_gives_one_line_naming_it(change, message):
    with pytest.raises(SlurmConfigError) as info:
        config_files([{**PARTITIONS[0], **change}], ["p"])
    assert str(info.value) == message

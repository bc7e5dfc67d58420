"""The test node's miniature Slurm cluster: real slurmctld and slurmd, LUMI's partitions, Slurm's own errors."""

import subprocess

import pytest

import lumi_node
from macros.facts import load_facts
from macros.system_snapshot import load_snapshot

PROJECT = load_facts()["example_project"]
PARTITIONS = {part["name"]: part for part in load_snapshot().slurm_partitions()}
GPU_PARTITION = next(name for name, part in PARTITIONS.items() if part["gpus_per_node"])
CPU_PARTITION = "small" if "small" in PARTITIONS else next(iter(PARTITIONS))
TIMEOUT = 180
NOT_STARTED = 99  # the shell's exit status when lumi-node-slurm-start failed



@pytest.fixture
def slurm(node_dirs):
    """Run a script in a fresh node whose Slurm was started first; returns the process."""
    home, work = node_dirs

    def run(script, network=False):
        result = subprocess.run(lumi_node.shell_argv(home, work, network=network),
                                input=f"set -u\nlumi-node-slurm-start || exit {NOT_STARTED}\n" + script,
                                capture_output=True, text=True, timeout=TIMEOUT)
        # A cluster that did not start is that failure, not a refusal the test expects.
        if result.returncode == NOT_STARTED:
            pytest.fail(f"the node's Slurm did not start:\n{result.stderr}")
        return result
    return run


def test_every_snapshot_partition_is_up_with_idle_nodes(slurm):
    result = slurm("sinfo -h -o '%P %a %T'\n")
    assert result.returncode == 0, result.stderr
    seen = {line.split()[0].rstrip("*"): line.split()[1:] for line in result.stdout.splitlines()}
    assert set(seen) == set(PARTITIONS)
    assert all(state == ["up", "idle"] for state in seen.values()), result.stdout


def test_batch_job_runs_as_the_user_and_srun_steps_run(slurm):
    script = f"""cat > job.sh <<'EOF'
#!/bin/bash
#SBATCH --account={PROJECT}
#SBATCH --partition={CPU_PARTITION}
#SBATCH --ntasks=2
#SBATCH --time=00:05:00
srun bash -c 'echo "task $SLURM_PROCID of $SLURM_NTASKS as $(id -un)"' | sort
EOF
sbatch --wait job.sh
cat slurm-*.out
"""
    result = slurm(script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "task 0 of 2 as lumiuser\ntask 1 of 2 as lumiuser" in result.stdout


def test_gpu_jobs_are_scheduled_on_two_gpu_nodes(slurm):
    script = (f"srun --account={PROJECT} --partition={GPU_PARTITION} --nodes=2 --gpus-per-node=8 "
              "--ntasks-per-node=1 bash -c 'echo $SLURM_NODEID $SLURM_JOB_NUM_NODES $SLURM_GPUS_PER_NODE' | sort\n")
    result = slurm(script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split("\n")[:2] == ["0 2 8", "1 2 8"]


@pytest.mark.parametrize("options, error", [
    (f"--account={PROJECT} --partition=nosuch", "sbatch: error: invalid partition specified: nosuch"),
    (f"--account={PROJECT} --partitoin={CPU_PARTITION}", "sbatch: unrecognized option '--partitoin="),
    (f"--partition={CPU_PARTITION}",
     "sbatch: error: Batch job submission failed: Invalid account or account/partition combination"),
    (f"--account=project_000000000 --partition={CPU_PARTITION}",
     "sbatch: error: Batch job submission failed: Invalid account or account/partition combination"),
    (f"--account={PROJECT} --partition={CPU_PARTITION} --time=99-00:00:00",
     "sbatch: error: Batch job submission failed: Requested time limit is invalid"),
    (f"--account={PROJECT} --partition={CPU_PARTITION} --gpus=1",
     "sbatch: error: Batch job submission failed: Requested node configuration is not available"),
])
def test_slurm_refuses_what_lumi_refuses_with_its_own_error(slurm, options, error):
    result = slurm(f"sbatch {options} --wrap true\n")
    assert result.returncode != 0, result.stdout + result.stderr
    assert error in result.stderr


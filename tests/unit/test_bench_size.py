"""The size bench's pure parts: layers paired with their steps, the table, the peer Dockerfile's shape."""

from __future__ import annotations

import re
from pathlib import Path

from tests.bench.size import Layer, layer_steps, report, sizes

UPSTREAM_DOCKERFILE = Path(__file__).parents[2] / "tests" / "bench" / "upstream.Dockerfile"


def layer(name: str, compressed_mb: int, uncompressed_mb: int) -> Layer:
    mb = 1_000_000
    return Layer(
        digest=f"sha256:{name}", compressed=compressed_mb * mb, uncompressed=uncompressed_mb * mb, step=f"RUN {name}"
    )


def test_history_entries_without_a_layer_are_skipped() -> None:
    config = {
        "history": [
            {"created_by": "ADD rootfs"},
            {"created_by": "ENV A=1", "empty_layer": True},
            {"created_by": "RUN apt-get install"},
        ]
    }
    assert layer_steps(config, 2) == ["ADD rootfs", "RUN apt-get install"]


def test_a_history_that_does_not_match_the_layers_names_no_step() -> None:
    assert layer_steps({"history": [{"created_by": "ADD rootfs"}]}, 2) == ["", ""]
    assert layer_steps({}, 1) == [""]


def test_the_table_gives_totals_sizes_over_the_base_and_the_ratios() -> None:
    base = [layer("base", 80, 170)]
    ours = [*base, layer("apt", 100, 300), layer("runner", 20, 30)]
    peer = [*base, layer("apt", 200, 500), layer("runner", 40, 100), layer("again", 20, 30)]
    assert sizes(ours) == (3, 200_000_000, 500_000_000)
    lines = report("title", {"ours": ours, "upstream": peer}, base)
    assert lines[0] == "title"
    assert re.split(r"\s+", lines[3]) == ["ours", "3", "200.0", "500.0", "120.0", "330.0"]
    ratio = next(line for line in lines if line.startswith("ratio"))
    assert "compressed 0.59, uncompressed 0.62" in ratio  # 200/340, 500/800
    assert "over the base: compressed 0.46, uncompressed 0.52" in ratio  # 120/260, 330/630
    # per-layer listings leave out the base's own layers
    assert not any(line.strip().endswith("RUN base") for line in lines)
    assert sum(line.strip().endswith("RUN apt") for line in lines) == 2


def test_the_peer_keeps_upstreams_final_stage() -> None:
    text = UPSTREAM_DOCKERFILE.read_text()
    final = text.split("FROM ${BASE_IMAGE}\n", 1)[1]
    packages = "sudo lsb-release gpg-agent software-properties-common curl jq unzip"
    assert f"apt install -y --no-install-recommends {packages}" in final
    assert "apt install -y git" in final
    assert "chmod 777 /home/runner" in final
    steps = [line.split()[0] for line in final.splitlines() if re.match(r"^(RUN|COPY|WORKDIR|USER)\b", line)]
    assert steps == ["RUN", "RUN", "RUN", "RUN", "WORKDIR", "COPY", "COPY", "RUN", "USER"]
    # docker/ comes in with the runner's COPY and is installed, then removed, in a later layer
    assert final.index("COPY --chown=runner:docker --from=build /actions-runner .") < final.index(
        "RUN install -o root -g root -m 755 docker/* /usr/bin/ && rm -rf docker"
    )

# Upstream's image (actions/runner images/Dockerfile, 2026) step by step, as
# the peer whose size `python -m tests.bench.bench size` sets ours against.
# Same RUN, COPY and ENV steps in the same order, so the same layers; what
# differs is only where things come from, since neither GitHub,
# download.docker.com, Launchpad nor a container registry is reachable here:
#
# - BASE_IMAGE: the base both sides are built on (the bench's local base),
#   where upstream has .NET's runtime-deps image.
# - *_BASE_URL: a server on 127.0.0.1 laid out like the release download URLs,
#   holding the bench's stand-ins: the runner and hooks fixtures our image is
#   built from too; docker-<v>.tgz with upstream's docker/ folder (client and
#   engine) from Debian's packages, its client the same file as our
#   docker-ce-cli's; the buildx binary our docker-buildx-plugin holds.
# - git: the distribution's, without `add-apt-repository ppa:git-core/ppa`
#   (Launchpad is not reachable); the apt line that installs it is upstream's.
# - HOOKS_NOVOLUME_VERSION: upstream writes its version in the URL; an ARG so the
#   bench can give its fixture's version.
# - Every version ARG has no default: the bench passes each one (tests/bench/size.py),
#   and upstream's own defaults are not ours to copy.
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS build

ARG TARGETOS
ARG TARGETARCH
ARG RUNNER_VERSION
ARG RUNNER_CONTAINER_HOOKS_VERSION
ARG HOOKS_NOVOLUME_VERSION
ARG DOCKER_VERSION
ARG BUILDX_VERSION
ARG RUNNER_BASE_URL=https://github.com/actions/runner/releases/download
ARG HOOKS_BASE_URL=https://github.com/actions/runner-container-hooks/releases/download
ARG DOCKER_BASE_URL=https://download.docker.com
ARG BUILDX_BASE_URL=https://github.com/docker/buildx/releases/download

RUN apt update -y && apt install curl unzip -y

WORKDIR /actions-runner
RUN export RUNNER_ARCH=${TARGETARCH} \
    && if [ "$RUNNER_ARCH" = "amd64" ]; then export RUNNER_ARCH=x64 ; fi \
    && curl -f -L -o runner.tar.gz ${RUNNER_BASE_URL}/v${RUNNER_VERSION}/actions-runner-${TARGETOS}-${RUNNER_ARCH}-${RUNNER_VERSION}.tar.gz \
    && tar xzf ./runner.tar.gz \
    && rm runner.tar.gz

RUN curl -f -L -o runner-container-hooks.zip ${HOOKS_BASE_URL}/v${RUNNER_CONTAINER_HOOKS_VERSION}/actions-runner-hooks-k8s-${RUNNER_CONTAINER_HOOKS_VERSION}.zip \
    && unzip ./runner-container-hooks.zip -d ./k8s \
    && rm runner-container-hooks.zip

RUN curl -f -L -o runner-container-hooks.zip ${HOOKS_BASE_URL}/v${HOOKS_NOVOLUME_VERSION}/actions-runner-hooks-k8s-${HOOKS_NOVOLUME_VERSION}.zip \
    && unzip ./runner-container-hooks.zip -d ./k8s-novolume \
    && rm runner-container-hooks.zip

RUN export RUNNER_ARCH=${TARGETARCH} \
    && if [ "$RUNNER_ARCH" = "amd64" ]; then export DOCKER_ARCH=x86_64 ; fi \
    && if [ "$RUNNER_ARCH" = "arm64" ]; then export DOCKER_ARCH=aarch64 ; fi \
    && curl -fLo docker.tgz ${DOCKER_BASE_URL}/${TARGETOS}/static/stable/${DOCKER_ARCH}/docker-${DOCKER_VERSION}.tgz \
    && tar zxvf docker.tgz \
    && rm -rf docker.tgz \
    && mkdir -p /usr/local/lib/docker/cli-plugins \
    && curl -fLo /usr/local/lib/docker/cli-plugins/docker-buildx \
        "${BUILDX_BASE_URL}/v${BUILDX_VERSION}/buildx-v${BUILDX_VERSION}.linux-${TARGETARCH}" \
    && chmod +x /usr/local/lib/docker/cli-plugins/docker-buildx

FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive
ENV RUNNER_MANUALLY_TRAP_SIG=1
ENV ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT=1
ENV ImageOS=ubuntu24

# 'gpg-agent' and 'software-properties-common' are needed for the 'add-apt-repository' command that follows
RUN apt update -y \
    && apt install -y --no-install-recommends sudo lsb-release gpg-agent software-properties-common curl jq unzip \
    && rm -rf /var/lib/apt/lists/*

# Upstream: `add-apt-repository ppa:git-core/ppa` first (git-core's newest git); here the distribution's git.
RUN apt update -y \
    && apt install -y git \
    && rm -rf /var/lib/apt/lists/*

RUN adduser --disabled-password --gecos "" --uid 1001 runner \
    && groupadd docker --gid 123 \
    && usermod -aG sudo runner \
    && usermod -aG docker runner \
    && echo "%sudo   ALL=(ALL:ALL) NOPASSWD:ALL" > /etc/sudoers \
    && echo "Defaults env_keep += \"DEBIAN_FRONTEND\"" >> /etc/sudoers

RUN chmod 777 /home/runner

WORKDIR /home/runner

COPY --chown=runner:docker --from=build /actions-runner .
COPY --from=build /usr/local/lib/docker/cli-plugins/docker-buildx /usr/local/lib/docker/cli-plugins/docker-buildx

# docker/ (client and engine) came in with the COPY above and stays in that layer; this copies it again.
RUN install -o root -g root -m 755 docker/* /usr/bin/ && rm -rf docker

USER runner

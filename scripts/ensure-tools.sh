#!/usr/bin/env bash
# The tests use real oracles and a real terminal: ssh-keygen (openssh-client),
# git, jq and tmux. Install whatever is missing when we can (root + apt-get);
# otherwise say exactly what to install.
set -euo pipefail
need=()
command -v git >/dev/null || need+=(git)
# ssh-keygen, ssh-agent and ssh-add (the concurrent-signing tests run a real agent).
command -v ssh-keygen >/dev/null && command -v ssh-agent >/dev/null && command -v ssh-add >/dev/null || need+=(openssh-client)
# sshd: the sync tests start their own OpenSSH server on loopback (tests/sync/ssh_server.py)
# to sync clones over ssh:// as a team's git server would be reached.
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null || need+=(openssh-server)
command -v jq >/dev/null || need+=(jq)
command -v tmux >/dev/null || need+=(tmux)
command -v sha256sum >/dev/null || need+=(coreutils)
# Java 17 (or newer) for Spark in local mode: `evaluate --engine spark` and the Spark
# differential tests (tests/evidence/test_spark_engine.py). Without it those tests fail
# with "Java 17 is needed" and `workbench evaluate --engine spark` exits 2 saying so;
# the default DuckDB engine needs no Java.
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
  need+=(openjdk-17-jre-headless)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing test tools: ${need[*]}" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing tools needed by the tests: ${need[*]} (install them with your package manager)" >&2
  exit 2
fi

#!/bin/bash
# cron-metrics.sh DOCS DB [DIR] - the nightly re-index, reporting to
# Prometheus through node_exporter's textfile collector.
#
#	# m h dom mon dow  command
#	30 2 * * *  /usr/local/share/ai-tools/examples/cron-metrics.sh /srv/docs /srv/kb.db
#
# It runs cron-reindex.sh (beside it) with AI_METRICS=DIR and AI_JOB=JOB,
# so every tool of the job writes DIR/JOB.TOOL.prom at exit, atomically:
# records read, written and failed, model requests, retries, tokens,
# cache hits, latencies, its exit status and the time it ended.  DIR is
# the directory node_exporter was started with:
#
#	prometheus-node-exporter --collector.textfile.directory=DIR
#
# Debian's package reads /var/lib/prometheus/node-exporter (the default
# here); set it in ARGS of /etc/default/prometheus-node-exporter.  JOB is
# $JOB, or "reindex".  Rules that page when a stage failed, and when the
# job has not succeeded for a day, whether it fails or no longer runs
# (node_exporter's own scrape job owns the "job" label, so ours arrives
# as exported_job unless the scrape sets honor_labels: true):
#
#	- alert: ReindexFailed
#	  expr: ai_tools_exit_status{exported_job="reindex"} != 0
#	- alert: ReindexStale
#	  expr: time() - ai_tools_last_success_timestamp_seconds{exported_job="reindex",tool="ai-index"} > 26 * 3600
#
# A failed run carries the last success over from the file it replaces;
# a stage that did not run keeps its last file.  Either way the time
# ages and the second rule fires.  The exit status and summary line are
# cron-reindex.sh's.
set -euo pipefail
docs=${1:?usage: cron-metrics.sh DOCS DB [DIR]}
db=${2:?usage: cron-metrics.sh DOCS DB [DIR]}
dir=${3:-/var/lib/prometheus/node-exporter}
[ -d "$dir" ] || { echo "cron-metrics: $dir: not a directory" >&2; exit 2; }
AI_METRICS=$dir AI_JOB=${JOB:-reindex} exec bash "$(dirname "$0")/cron-reindex.sh" \
    "$docs" "$db"

#!/bin/sh
# The per-call benchmarks in rounds: every round runs the whole JMH suite once at 1 thread and
# once at 2 threads (one fork per benchmark), so each benchmark's forks are spread over the whole
# run instead of back to back; JmhTable then takes the median of the rounds. On a shared VM whole
# forks run fast or slow together (NoAgentBenchmark.computeOnly shows it), which one run of
# neighbouring forks cannot tell from a real difference.
#
# usage, from the repository root:  sh benchmarks/run-rounds.sh [ROUNDS] [OUT_DIR]
# (defaults 3 and benchmarks/target/jmh-rounds; about 5 minutes a round on 2 cores)
# OUT_DIR gets JMH's raw output and summary.md (the command and the table): keep only the summary,
# in benchmarks/results/DATE/ (the raw files are ignored by git there and regenerated on demand).
set -eu
rounds=${1:-3}
out=${2:-benchmarks/target/jmh-rounds}
mkdir -p "$out"
r=1
while [ "$r" -le "$rounds" ]; do
  for t in 1 2; do
    java -jar benchmarks/target/benchmarks.jar -t "$t" -bm avgt -prof gc -f 1 -wi 3 -w 1s -i 5 -r 1s \
      -rf json -rff "$out/avgt-t$t-r$r.json" > "$out/avgt-t$t-r$r.txt" 2>&1
    echo "round $r, $t thread(s): $out/avgt-t$t-r$r.json"
  done
  r=$((r + 1))
done
list() { ls "$out"/avgt-t"$1"-r*.json | paste -sd, -; }
{
  echo "# Per-call cost (JMH), $rounds round(s), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "    command  sh benchmarks/run-rounds.sh $rounds $out"
  echo "    agent    $(sha256sum agent/target/firebreak-agent.jar | cut -c1-64)"
  echo "    java     $(java -version 2>&1 | sed -n 2p)"
  echo
  java -cp benchmarks/target/benchmarks.jar dev.firebreak.benchmarks.JmhTable "$(list 1)" "$(list 2)"
} | tee "$out/summary.md"

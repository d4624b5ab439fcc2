#!/bin/sh
# Per-call cost of a timed call with two (or more) agent jars, side by side: every round runs
# InstrumentedBenchmark's bare, twoNanoTime (the clock floor) and firebreak once per jar at 1 thread
# and at 2 threads, the jars alternated, so a fast or slow stretch of a shared VM hits them alike.
# The table gives, per jar and thread count, the medians over the rounds of firebreak's ns/op and of
# "above the floor" (firebreak - twoNanoTime of the same round), with every round's value, and the
# 2-thread median over the 1-thread one.
#
# usage, from the repository root:  sh benchmarks/run-ab.sh ROUNDS OUT_DIR JAR [JAR ...]
# e.g. a copy of the agent jar before a change and the one after it. OUT_DIR gets JMH's raw output
# and summary.md (the command and the table); keep only the summary, in benchmarks/results/DATE/.
set -eu
rounds=$1
out=$2
shift 2
mkdir -p "$out"
r=1
while [ "$r" -le "$rounds" ]; do
  for t in 1 2; do
    for jar in "$@"; do
      n=$(basename "$jar" .jar)
      java -jar benchmarks/target/benchmarks.jar 'InstrumentedBenchmark.(bare|firebreak|twoNanoTime)$' \
        -t "$t" -bm avgt -prof gc -f 1 -wi 3 -w 1s -i 5 -r 1s \
        -jvmArgsAppend "-javaagent:$jar=rules=benchmarks/src/main/resources/firebreak-bench.yaml" \
        -rf json -rff "$out/$n-t$t-r$r.json" > "$out/$n-t$t-r$r.txt" 2>&1
      echo "round $r, $t thread(s), $n: $out/$n-t$t-r$r.txt (load $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
  r=$((r + 1))
done
score() { awk -v b="InstrumentedBenchmark.$2" '$1 == b && $2 == "avgt" { print $4 }' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
{
  echo "# Per-call cost of a timed call, A/B, $rounds round(s), $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "    command  sh benchmarks/run-ab.sh $rounds $out $*"
  for jar in "$@"; do
    echo "    $(basename "$jar" .jar)  $(sha256sum "$jar" | cut -c1-64)"
  done
  echo "    java     $(java -version 2>&1 | sed -n 2p)"
  echo "    load     $(cut -d' ' -f1-3 /proc/loadavg) (at the end)"
  echo
  echo "| jar | threads | firebreak ns/op | twoNanoTime ns/op | above the floor, ns (median) | each round | firebreak 2 t / 1 t |"
  echo "| --- | ---: | ---: | ---: | ---: | --- | ---: |"
  for jar in "$@"; do
    n=$(basename "$jar" .jar)
    one=""
    for t in 1 2; do
      fb=""
      fl=""
      ab=""
      for f in "$out/$n-t$t"-r*.txt; do
        a=$(score "$f" firebreak)
        b=$(score "$f" twoNanoTime)
        fb="$fb$a
"
        fl="$fl$b
"
        ab="$ab$(echo "$a $b" | awk '{ printf "%+.1f", $1 - $2 }')
"
      done
      m=$(printf '%s' "$fb" | median)
      per=""
      if [ "$t" = 1 ]; then
        one=$m
      else
        per=$(echo "$m $one" | awk '{ printf "%.2fx", $1 / $2 }')
      fi
      echo "| $n | $t | $m | $(printf '%s' "$fl" | median) | $(printf '%s' "$ab" | median | awk '{ printf "%+.1f", $1 }') | $(printf '%s' "$ab" | paste -sd' ' -) | $per |"
    done
  done
} | tee "$out/summary.md"

#!/bin/sh
# The manifest's build step: package the SUT unless the jar is newer than every source.
# Idempotent; prints nothing when there is nothing to do.
set -eu
cd "$(dirname "$0")"
JAR=target/oversell-kafka-streams.jar
STAMP=target/.build-complete
if [ -f "$STAMP" ] && [ -f "$JAR" ] && [ -z "$(find pom.xml build.sh run.sh src -newer "$STAMP" -print -quit)" ]; then
  exit 0
fi
command -v mvn >/dev/null 2>&1 || { echo "kafka-streams SUT: Maven (mvn) is needed to build it" >&2; exit 2; }
rm -f "$STAMP" target/app.jsa
# A stale dependency from an older pom must not stay on the classpath (target/lib/*).
rm -rf target/lib
mvn -B -q -Dstyle.color=never package
# AppCDS: one class-loading run without a broker, archived, roughly halves JVM start-up on this box.
# Optional: instances start without it. run.sh gives the training run the fast-start flags instances start with.
if ! CDS_DUMP=1 OVERSELL_SETTING_JVM=fast-start OVERSELL_NS=oversell.cds-training OVERSELL_BOOTSTRAP=127.0.0.1:9 \
  sh run.sh --train >target/cds-training.log 2>&1; then
  echo "kafka-streams SUT: class archive not built (instances start without it), see target/cds-training.log" >&2
  rm -f target/app.jsa
fi
touch "$STAMP"

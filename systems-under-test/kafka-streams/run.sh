#!/bin/sh
# Starts one instance (the manifest's command) with the JVM flags of the `jvm` setting, so a profile can choose
# them: fast-start (bench, tests: C1 only, a small heap, SerialGC, up in seconds on 2 cores) or throughput
# (capacity: C2, a fixed heap, G1). build.sh trains the class archive through here (CDS_DUMP=1) with the same flags.
set -eu
cd "$(dirname "$0")"
case "${OVERSELL_SETTING_JVM:-fast-start}" in
  fast-start) FLAGS="-Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1" ;;
  throughput) FLAGS="-Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20" ;;
  *) echo "OVERSELL_SETTING_JVM=\"$OVERSELL_SETTING_JVM\" is not one of fast-start, throughput" >&2; exit 2 ;;
esac
if [ "${CDS_DUMP:-}" = 1 ]; then CDS="-XX:ArchiveClassesAtExit=target/app.jsa"; else CDS="-XX:SharedArchiveFile=target/app.jsa"; fi
# exec: the instance's pid is the JVM's, so the harness's signals (stop, pause, kill) reach it directly.
# shellcheck disable=SC2086
exec java $FLAGS -XX:+ExitOnOutOfMemoryError -Djava.net.preferIPv4Stack=true "$CDS" -Xlog:cds=off \
  -Xlog:cds+dynamic=off -cp "target/lib/*:target/oversell-kafka-streams.jar" oversell.streams.Main "$@"

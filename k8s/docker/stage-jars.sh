#!/bin/sh
# Sorts the jars of one Maven build (package dependency:copy-dependencies) into the images'
# layout. Usage: stage-jars.sh <repository root> <output folder>
#   flink-lib/   DJL and its own dependencies: the model module depends on nothing else
#   native-cpu/  pytorch-native-cpu (the cpu job image only)
#   usrlib/      l0stream-pipeline.jar + what neither the Flink image nor flink-lib/ provides
#   serving/     the serving jar and all its runtime dependencies
set -eu
src=$1
out=$2
mkdir -p "$out/flink-lib" "$out/native-cpu" "$out/usrlib" "$out/serving"

artifact() { # the artifact id of a copied jar: commons-io-2.16.1.jar -> commons-io
  basename "$1" | sed -E 's/-[0-9][0-9A-Za-z.]*(-[0-9A-Za-z.]+)*\.jar$//'
}

main_jar() { # the module's jar, not a tests/sources jar
  find "$src/$1/target" -maxdepth 1 -name "l0stream-$1-*.jar" ! -name '*-tests.jar' ! -name '*-sources.jar' | head -n 1
}

for j in "$src"/model/target/dependency/*.jar; do
  case "$(basename "$j")" in
    pytorch-native-cpu-*) cp "$j" "$out/native-cpu/" ;;
    slf4j-*) ;; # Flink's lib/ has its own logging
    *) cp "$j" "$out/flink-lib/" ;;
  esac
done

cp "$(main_jar pipeline)" "$out/usrlib/l0stream-pipeline.jar"
in_lib=" $(for j in "$out"/flink-lib/*.jar "$out"/native-cpu/*.jar; do artifact "$j"; done | tr '\n' ' ') "
for j in "$src"/pipeline/target/dependency/*.jar; do
  n=$(basename "$j")
  case "$in_lib" in
    *" $(artifact "$n") "*) continue ;; # in lib/ (any version): a second copy in usrlib/ would win child-first
  esac
  case "$n" in
    flink-connector-*) cp "$j" "$out/usrlib/" ;; # connectors are not part of the Flink image
    flink-*) ;;                                  # Flink itself, and the Prometheus reporter plugin
    slf4j-*|log4j-*) ;;                          # Flink's logging, not a second binding
    *) cp "$j" "$out/usrlib/" ;;
  esac
done

cp "$(main_jar serving)" "$out/serving/"
cp "$src"/serving/target/dependency/*.jar "$out/serving/"

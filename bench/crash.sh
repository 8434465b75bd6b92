# bench/crash.sh: sourced by bench/run.  tests/integ/t_crash.sh with more
# trials: BENCH_CRASH kill -9 of wkdctl import of Debian's keyring at
# random points (default 500; no time bound but BENCH_CRASH_BUDGET
# seconds, default 3600), wkdd serving and a client parsing every answer
# throughout.  Its figures: trials, kills mid-import, addresses checked
# after the kills, the client's requests and bad answers.

BENCH_CRASH=${BENCH_CRASH:-500}
echo
echo "== crash: kill -9 of wkdctl import, $BENCH_CRASH trials"
CRASH_TRIALS=$BENCH_CRASH CRASH_BUDGET=${BENCH_CRASH_BUDGET:-3600} \
    sh "$TOP/tests/integ/t_crash.sh" > "$RUN/crash.tap" 2>&1
crash_rc=$?
# cfig NAME: a figure of crash.py's, as t_crash.sh shows them.
cfig() {
	sed -n "s/^#     $1 //p" "$RUN/crash.tap" | head -n 1
}
grep -E '^(not )?ok ' "$RUN/crash.tap"
echo "crash: $(cfig trials) trials, $(cfig killed) killed mid-import," \
    "$(cfig checked) addresses checked after the kills, $(cfig problems)" \
    "problems; client: $(cfig requests) requests ($(cfig ok200) keys," \
    "$(cfig ok404) 404), $(cfig bad) bad answers; $(cfig seconds) s"
md "" "### Crash safety: kill -9 of wkdctl import (tests/integ/t_crash.sh)" "" \
    "| trials | killed mid-import | addresses checked | problems | client requests | keys parsed | bad answers | seconds | result |" \
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |" \
    "| $(cfig trials) | $(cfig killed) | $(cfig checked) | $(cfig problems) | $(cfig requests) | $(cfig ok200) | $(cfig bad) | $(cfig seconds) | $([ $crash_rc -eq 0 ] && echo pass || echo FAIL) |"
if [ $crash_rc -ne 0 ]; then
	grep -E '^not ok|fail ' "$RUN/crash.tap" >&2
	echo "bench: t_crash failed" >&2
fi

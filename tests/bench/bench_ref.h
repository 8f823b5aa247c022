/*
 * bench_ref.h - the machine's reference rate, shared by the benchmarks
 * (bench_hop.c, saga_bench.c): pgbench running one handler transaction's
 * shape (inbox insert + row update + outbox insert, a durable commit) on a
 * scratch copy of the probe schema. Measured in the same run as the figures
 * it judges, so they compare as ratios on a noisy machine.
 */
#ifndef BENCH_REF_H
#define BENCH_REF_H

/*
 * Runs the reference with `clients` connections for `seconds` against
 * database_url: migrates probe_migrations (the probe context's migration
 * directory) into a scratch schema bench_ref, runs pgbench, drops the schema.
 * Returns transactions per second, or 0 (with a line on stderr) when
 * anything failed: a benchmark prints what it has rather than stopping.
 */
double bench_ref_pgbench(const char *database_url, const char *probe_migrations, int clients,
                         int seconds);

#endif

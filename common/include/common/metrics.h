/*
 * metrics.h - process-wide counters, gauges and histograms, rendered in the
 * Prometheus text format 0.0.4 for GET /metrics.
 *
 * A series is a name plus a fixed label set, looked up get-or-create, so a
 * caller may resolve one lazily (per event type) or keep the pointer. Updates
 * are lock-free atomics, safe from any thread. What cannot be registered
 * (registry full, bad name or labels, a name reused with another type) gets a
 * static dummy that counts but is never rendered, logged once: metrics never
 * fail or crash the caller.
 */
#ifndef COMMON_METRICS_H
#define COMMON_METRICS_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_SERIES  256
#define METRICS_NAME_MAX    128 /* longest name, including the terminator */
#define METRICS_LABELS_MAX  256 /* longest label set, including the terminator */
#define METRICS_HELP_MAX    256 /* help text longer than this is truncated */
#define METRICS_BUCKETS_MAX 32  /* most finite bounds of one histogram */

/* The content type of metrics_render() output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Default latency buckets in seconds, 0.5 ms to 30 s. */
#define METRICS_LATENCY_NBUCKETS 15
extern const double METRICS_LATENCY_BUCKETS[METRICS_LATENCY_NBUCKETS];

struct metrics_counter;
struct metrics_gauge;
struct metrics_histogram;

/*
 * Labels: NULL (or "") for none, or a preformatted label set in exposition
 * syntax, e.g.  type="booking.booking.created"  or  method="GET",status="200".
 * Label names match [a-zA-Z_][a-zA-Z0-9_]* and may not start with "__"; values
 * are quoted and escaped as the format requires (\\, \" and \n). Two label sets
 * are the same series only when they are the same text, so always write the
 * labels of one metric in the same order. A histogram's labels may not use
 * "le", which its buckets add. metrics_label() builds a set safely.
 *
 * Names match [a-zA-Z_:][a-zA-Z0-9_:]*. The help text of a name is taken from
 * its first registration. The returned pointers are valid for the life of the
 * process (until metrics_reset_for_tests()); never free them.
 */

/*
 * Writes the one-label set  name="value"  into out (size outlen), escaping
 * value; out need not be initialised. For several labels, join sets with a
 * comma. Returns 0, or ERR_INVALID (out set to "") when name is not a label
 * name or the set does not fit.
 */
int metrics_label(char *out, size_t outlen, const char *name, const char *value);

/* Gets or creates a counter (a value that only goes up). */
struct metrics_counter *metrics_counter(const char *name, const char *help, const char *labels);
void metrics_counter_add(struct metrics_counter *c, uint64_t n);
void metrics_counter_inc(struct metrics_counter *c);

/* Gets or creates a gauge (a value that goes up and down), initially 0. */
struct metrics_gauge *metrics_gauge(const char *name, const char *help, const char *labels);
void metrics_gauge_set(struct metrics_gauge *g, double value);

/*
 * Gets or creates a histogram with the given finite upper bounds (strictly
 * increasing, 1..METRICS_BUCKETS_MAX of them; copied). The +Inf bucket is
 * implicit. An existing series keeps the bounds it was created with.
 */
struct metrics_histogram *metrics_histogram(const char *name, const char *help, const char *labels,
                                            const double *bounds, size_t nbounds);

/* Counts value into its bucket (le is inclusive) and adds it to the sum; NaN is ignored. */
void metrics_histogram_observe(struct metrics_histogram *h, double value);

/*
 * Renders every registered series: per name one "# HELP" (when help is not
 * empty) and one "# TYPE" line, then its series in registration order.
 * Histograms render cumulative _bucket lines ending with le="+Inf", then _sum
 * and _count. Returns a new string (free it), or NULL when out of memory.
 * Values updated during rendering may or may not be included.
 */
char *metrics_render(void);

/* Forgets every series and the once-only warnings. Tests only: not thread-safe. */
void metrics_reset_for_tests(void);

#endif

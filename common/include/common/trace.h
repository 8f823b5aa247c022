/*
 * trace.h - W3C Trace Context (traceparent, version 00) and the trace
 * context of what this thread is handling now (SPEC §2, §8).
 *
 * A request or a delivery sets the thread's current context while it is
 * handled (trace_set_current): the HTTP layer from the request's
 * traceparent header (a new trace when absent), the consumer from the
 * consumed event's traceparent attribute, each as a new span whose parent is
 * the caller's. Whatever is written meanwhile continues it: envelope_build
 * gives every event a new span id in the same trace (trace_child), and every
 * log line carries trace_id and span_id. Nothing here does I/O besides
 * reading random bytes.
 */
#ifndef COMMON_TRACE_H
#define COMMON_TRACE_H

#include <stdbool.h>

#define TRACE_ID_HEX     32 /* hex digits of a trace id */
#define TRACE_SPAN_HEX   16 /* hex digits of a span id */
#define TRACE_PARENT_LEN 56 /* "00-<32>-<16>-<2>" and its NUL */

struct trace_context {
    char trace_id[TRACE_ID_HEX + 1];
    char span_id[TRACE_SPAN_HEX + 1];   /* this span */
    char parent_id[TRACE_SPAN_HEX + 1]; /* the span that caused it, "" for a root */
    unsigned char flags;                /* trace-flags: 01 = sampled */
};

/*
 * Parses a traceparent header or attribute: version 00 (later versions are
 * read as 00 when their first four fields are well formed, as the W3C spec
 * asks), lowercase hex, neither id all zeros. Fills t with the caller's span
 * as span_id and no parent. Returns true when valid.
 */
bool trace_parse(const char *text, struct trace_context *t);

/* Writes t as a version-00 traceparent into out (TRACE_PARENT_LEN bytes). */
void trace_format(const struct trace_context *t, char out[TRACE_PARENT_LEN]);

/* A new trace: random trace id and span id, no parent, sampled. */
void trace_start(struct trace_context *t);

/* A new span in parent's trace whose parent is parent's span. */
void trace_child(const struct trace_context *parent, struct trace_context *child);

/*
 * Starts the span of a request or a delivery from the traceparent text that
 * came with it (a child of it), or a new trace when text is NULL, empty or
 * invalid, and makes it this thread's current context.
 */
void trace_begin(const char *text, struct trace_context *span);

/* The current context of this thread (borrowed, valid until changed), or NULL. */
const struct trace_context *trace_current(void);

/* Makes t (copied; NULL clears) this thread's current context. */
void trace_set_current(const struct trace_context *t);

#endif

/* Where `vigil run --trace` writes its lines: a file or stderr, through
 * one large buffer that events are formatted into in place (trace-sink.c). */
#ifndef VIGIL_TRACE_SINK_H
#define VIGIL_TRACE_SINK_H

#include <stddef.h>

struct trace_sink;

/* Open @path for writing (created or truncated), or stderr when @path is
 * NULL. Lines may be up to @line_max bytes. Returns 0 or -errno. */
int trace_sink_open(struct trace_sink **out, const char *path, size_t line_max);
/* Room for one line of up to line_max bytes; trace_sink_commit() then
 * adds the @n bytes written there and a newline. */
char *trace_sink_room(struct trace_sink *s);
void trace_sink_commit(struct trace_sink *s, size_t n);
/* A line (without its newline) from elsewhere. */
void trace_sink_line(struct trace_sink *s, const char *line, size_t n);
/* Write what is buffered (the consumer calls it whenever it is idle, so
 * that a reader of the file or terminal sees events promptly). */
void trace_sink_flush(struct trace_sink *s);
/* Flush and close; returns 0 or the first write error (-errno). */
int trace_sink_close(struct trace_sink *s);

#endif

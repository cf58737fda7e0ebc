/* Logging to stderr with a level, a timestamp and a subsystem tag.  Thread
 * safe: each line is written with one write(2). */
#ifndef LLHLS_LOG_H
#define LLHLS_LOG_H

typedef enum { LLHLS_LOG_ERROR = 0, LLHLS_LOG_WARN, LLHLS_LOG_INFO, LLHLS_LOG_DEBUG } llhls_log_level_t;

void llhls_log_set_level(llhls_log_level_t level);
/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int llhls_log_parse_level(const char *s);
void llhls_log(llhls_log_level_t level, const char *tag, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define LLHLS_ERROR(tag, ...) llhls_log(LLHLS_LOG_ERROR, tag, __VA_ARGS__)
#define LLHLS_WARN(tag, ...) llhls_log(LLHLS_LOG_WARN, tag, __VA_ARGS__)
#define LLHLS_INFO(tag, ...) llhls_log(LLHLS_LOG_INFO, tag, __VA_ARGS__)
#define LLHLS_DEBUG(tag, ...) llhls_log(LLHLS_LOG_DEBUG, tag, __VA_ARGS__)

#endif
